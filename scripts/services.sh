#!/usr/bin/env bash
# The distributed-mode tests need PostgreSQL and Redis on their standard loopback ports. Start them when they are
# installed but not answering (the commands this machine kind uses); fail loudly when they cannot be had.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is not answering; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
if [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" != "PONG" ]; then
  echo "Redis is not answering; starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis \
    --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ] && break; sleep 0.2; done
fi
pg_isready -h 127.0.0.1 -p 5432
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping)" = "PONG" ] || { echo "Redis is not available" >&2; exit 1; }

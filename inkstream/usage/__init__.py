"""Usage and monitoring: usage events and quotas, per-minute rollups of stream and refresh outcomes (server and
client side), and the dashboard figures built from them."""

from tests.events.test_event_log import event_log  # noqa: F401 - the real logs, both backends, for every module here

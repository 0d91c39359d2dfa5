"""Run the same action from several threads at once, each on its own database connection.

For the tests that prove a service holds under real concurrent connections (PostgreSQL: the
test must use `django_db(transaction=True)` so each thread sees the committed rows).
"""

import threading

from django.db import connection


def at_once(action, times: int) -> list:
    """Call `action()` from `times` threads released together; their results, in no order.

    An exception in any thread fails the caller with the first one, once all have finished.
    """
    start = threading.Barrier(times)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(action())
        except Exception as exc:  # reported to the caller below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results

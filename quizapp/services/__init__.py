"""Services: the one place that turns requests into transactions.

Each public function either commits its whole change or raises and leaves the database as
it was. Errors meant for people are `ServiceError` with a Chinese message.
"""


class ServiceError(Exception):
    """A refusal to show to the user as it is (Chinese text)."""

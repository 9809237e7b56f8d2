"""The one error of a sweep: its file, template or one of its trials is wrong."""

__all__ = ["SweepError"]


class SweepError(ValueError):
    """The sweep file, its template or one of its trials is wrong (one-line message)."""

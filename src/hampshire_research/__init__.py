"""Research notebooks for a council's children's social care data: link the sources into a
single view of the child, describe routes to referral, and find where children's voices are
recorded. Descriptive and population-level: nothing here scores or ranks a child."""

__version__ = "0.1.0"

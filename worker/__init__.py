"""Background work on rq: jobs take ids and primitives, and build the app in the worker."""

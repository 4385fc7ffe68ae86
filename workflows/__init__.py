"""The engine room: a thin layer over SpiffWorkflow 3.2.0 — versions, steps, persistence, timers."""

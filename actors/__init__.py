"""The actor pipeline: messages, hub, broadcaster, supervisor and one module per actor."""

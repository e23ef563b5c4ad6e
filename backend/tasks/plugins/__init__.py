"""One module per task. Each defines `TASK = SomeTask()`; nothing else needs editing."""

"""The unified history of every task request: recording, querying and the `consultas_ia` view."""

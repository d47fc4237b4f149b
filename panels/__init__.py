"""The face: Qt widgets that render ``AppSnapshot``s. No business logic, no database, no panel-to-panel calls."""

"""Page handlers, one module per subject. Each handler parses, calls one service, renders."""

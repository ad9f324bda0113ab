"""data: example types, file readers and the split loader: everything that touches files, nothing that knows a format."""

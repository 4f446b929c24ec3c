"""Front doors: the HTTP service and the `karmayogi` command line."""

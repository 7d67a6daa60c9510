"""Photo uploads: the inputs of generations, normalized and kept in the private bucket."""

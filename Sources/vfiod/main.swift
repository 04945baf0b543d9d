print("vfiod")

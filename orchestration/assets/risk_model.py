ASSETS = []

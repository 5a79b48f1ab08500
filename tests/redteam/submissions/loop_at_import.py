"""An infinite loop at module level: importing the submission never finishes."""

while True:
    pass

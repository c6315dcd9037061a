"""`kubectl mediajobs`: the MediaJob queue from the command line (a krew-style plugin).

args.py parses the command line, render.py and stats.py turn plain API objects into
tables and figures (pure), access.py talks to the API server (logged in like kubectl:
kube/login.py), commands.py carries each command out and main.py is the entry point.
"""

"""The composition of one bot process, split by job: bootstrap builds the parts from the
settings (no HTTP), app assembles the FastAPI app over them, process serves it, cli reads the
command line. bot.py, the composition root, puts them together."""

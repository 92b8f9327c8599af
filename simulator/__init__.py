"""axis-simulator: capacity planning for national electronic document exchange hubs."""
__version__ = "0.1.0"

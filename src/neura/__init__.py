"""NEURA: lifelike talking avatars, as rendered videos and as live presenters.

Layers (imports point downwards only):

    cli / gateway  ->  pipeline (offline job, live session)  ->  engines
    engines: llm, script, tts, lipsync, avatar, render, encode

An engine is handed data and returns data: it knows no HTTP, database, queue or command line.
"""

__version__ = "0.1.0"

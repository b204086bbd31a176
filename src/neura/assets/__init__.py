"""Users' assets in object storage (avatars): how they are validated, prepared and laid out."""

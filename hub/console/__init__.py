"""The office's web console (`portique-hub console`)."""

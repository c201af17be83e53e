"""Host side: code that runs outside traced functions (numpy, files, clocks, encoders)."""

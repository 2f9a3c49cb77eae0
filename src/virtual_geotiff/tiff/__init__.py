"""Reading TIFF headers: the IFD chain guard, tag enums and the plain-data IFD description."""

"""Analysis of recorded tensors, numpy only: arrays in, arrays out, no store objects and no VTK."""

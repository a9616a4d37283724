"""The run store (numpy + h5py only): format.py names everything in the file, writer.py and
reader.py write and read it, summary.py is `tensorviz info`, synthetic.py a store with known
contents for tests and benchmarks."""

"""Training on one machine: the options, where a run starts, the Hogwild engine that trains chunks on
threads, the epochs of a local run, and the local training itself."""

"""The compiled training machinery around the objectives: the noise distribution, the Huffman tree, pair
generation, the architecture loop, rows of examples and the blocked full softmax."""

"""`python -m w2v_nce`: the w2v-nce command line."""
from .cli import main

main(prog_name="w2v-nce")

"""The `w2v-nce` command line (click), a thin layer over the w2v_nce API: train, bench, and the commands that use
a trained model (predict, score, similar, evaluate)."""
from .app import main
from .bench import bench_command
from .train import train_command
from .use import evaluate, predict, score, similar

for _command in (train_command, bench_command, predict, score, similar, evaluate):
    main.add_command(_command)

__all__ = ["main"]

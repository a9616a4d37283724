"""Training with filter reduction (`tensorviz train --reduce`, the poster's Fig. 5, on any
built-in model): one fit per stretch of reduce_every epochs, and between them the correlated
filters merged into a smaller model that training continues with; the poster network's
builder, which steered merges rebuild it with."""

from tensorviz_pv.messages import logger

LOG = logger("train")


def poster_rebuild(dataset, config):
    """What builds the poster's network again with given conv filters (filter reduction and
    steered merges rebuild the model with it)."""
    from .model import poster_model

    def rebuild(filters):
        return poster_model(dataset.x_train.shape[1:], dataset.classes, filters,
                            config.fc_units, config.dropout)
    return rebuild


def train_with_reduction(model, dataset, config, callback, initial_epoch, fit_epochs,
                         steering=None, unreduced_macs=None):
    """One fit per stretch of reduce_every epochs; between them, merge correlated filters of
    reduce_layers into a smaller model that training continues with (and the merges a
    SteeringCallback `steering` has due, where a fit ended for them). --reduce-target is a
    share of `unreduced_macs`, the model's before any reduction (default: `model`'s; a
    resumed run's model may be reduced already)."""
    from .reduction import compiled_like
    from .reduction_plans import plan_model, plan_to_target
    from .steered import fit_steered
    from .surgery import count_macs, reduce_model

    said = set()
    target = config.reduce_target * (unreduced_macs or count_macs(model)) \
        if config.reduce_target else None

    def reduce(model):
        probe = callback.probe_inputs()
        if target is None:
            plans, groups = plan_model(model, probe, config.reduce_layers,
                                       config.reduce_threshold, config.min_filters)
        else:
            plans, groups, _ = plan_to_target(model, probe, config.reduce_layers, target,
                                              config.min_filters, config.reduce_threshold)
        if not plans:
            return model
        new, kept, notes = reduce_model(model, plans)
        for first in plans:  # one line per residual group, once
            if first in notes and first not in said:
                said.add(first)
                LOG.info(f"TensorViz: {first}: {notes[first]}")
        # every member of a residual group loses the same filters: each records the merges
        callback.record_reduction({member: merges for first, merges in plans.items()
                                   for member in groups[first].members}, kept)
        counts = callback.filter_counts()
        counts = ", ".join(f"{name} {counts[name]}" for name in kept)
        LOG.info(f"TensorViz: step {callback.step}: merged "
                 f"{sum(len(m) for m in plans.values())} filters; now {counts}")
        return compiled_like(new, model)

    every, epoch = config.reduce_every, initial_epoch
    if 0 < epoch < config.epochs and epoch % every == 0:
        # a resumed run: its checkpoint was saved just before the reduction due here
        callback.begin(model)
        model = reduce(model)
    while epoch < config.epochs:
        last = min((epoch // every + 1) * every, config.epochs)  # reductions stay on multiples
        model = fit_steered(model, fit_epochs, epoch, last, steering)
        epoch = last
        if model.stop_training or epoch >= config.epochs:
            break
        model = reduce(model)
    return model

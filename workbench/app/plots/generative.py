"""Live plots of generative models: a latent traversal, and a field generator's gallery."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from bokeh.models import ColumnDataSource, HoverTool, LinearColorMapper, Range1d
from bokeh.palettes import Category10_10, Viridis256, interp_palette
from bokeh.plotting import figure

from workbench.app.plots.style import (
    FIELD_HEIGHT,
    MAGNITUDES,
    MIN_WIDTH,
    ROW_WIDTH,
    TOOLS,
    colour_bar,
    finite_range,
    label_of,
)
from workbench.views.fields import plot_dims
from workbench.views.generation import generated_channels
from workbench.views.latent import LATENT_DIM, OFFSET_DIM, TRAVERSAL_CMAP


class TraversalPlot:
    """A generative model's latent traversal, live: the field decoded with one latent swept.

    Drawn like :func:`workbench.views.traversal_grid`: for a 1D grid one figure per latent dim
    with a line per swept value, coloured low to high by the latent value (with a colour bar);
    for a 2D grid one figure tiling the decoded images, a row per latent dim and a column per
    swept value, on one colour range (hover names the latent and its value).

    Parameters
    ----------
    latents : sequence of str
        Names of the latent dims drawn (a row or a figure each).
    offsets : int
        Swept values per latent dim.
    dims : sequence of str
        The grid's dims; 2D images put ``t`` on the horizontal axis.
    """

    def __init__(self, latents: Sequence[str], offsets: int, dims: Sequence[str]):
        self.latents, self.offsets, self.dims = list(latents), int(offsets), plot_dims(dims)
        if len(self.dims) == 1:
            palette = interp_palette(tuple(TRAVERSAL_CMAP), max(self.offsets, 2))
            self.figures, self.sources, self.mappers = [], [], []
            for name in self.latents:
                fig = figure(title=f"latent {name} swept", width=330, height=250, tools=TOOLS)
                source = ColumnDataSource(
                    {"coord": [], **{f"v{k}": [] for k in range(self.offsets)}}
                )
                for k in range(self.offsets):
                    fig.line("coord", f"v{k}", source=source, color=palette[k], line_width=2)
                mapper = LinearColorMapper(palette=tuple(TRAVERSAL_CMAP), low=-1.0, high=1.0)
                fig.add_layout(colour_bar(mapper, title=f"latent {name}"), "right")
                self.figures.append(fig)
                self.sources.append(source)
                self.mappers.append(mapper)
            return
        rows = len(self.latents)
        self.mapper = LinearColorMapper(palette=Viridis256)
        self.source = ColumnDataSource(
            {"image": [], "x": [], "y": [], "dw": [], "dh": [], "latent": [], "value": []}
        )
        fig = figure(
            title="latent traversal: a row per latent dim",
            width=min(110 * self.offsets + 140, 1000),
            height=min(90 * rows + 80, 900),
            tools=TOOLS,
            x_range=Range1d(-0.5, self.offsets - 0.5),
            y_range=Range1d(-0.5, rows - 0.5),
            x_axis_label="offset (test-encoding standard deviations)",
            y_axis_label="latent dim",
        )
        image = fig.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=self.source,
            color_mapper=self.mapper,
        )
        fig.add_tools(
            HoverTool(renderers=[image], tooltips=[("latent", "@latent"), ("value", "@value")])
        )
        fig.add_layout(colour_bar(self.mapper), "right")
        # The first latent on top. Not a flipped y range: that would turn each image upside down.
        fig.yaxis.ticker = list(range(rows))
        fig.yaxis.major_label_overrides = {rows - 1 - i: n for i, n in enumerate(self.latents)}
        fig.grid.visible = False
        self.figures = [fig]

    @staticmethod
    def key(ds: xr.Dataset, latents: Sequence[str]) -> tuple:
        """What fixes the plot's shape: a new one is needed when this changes."""
        dims = tuple(d for d in ds["traversal"].dims if d not in (LATENT_DIM, OFFSET_DIM))
        return (tuple(latents), ds.sizes[OFFSET_DIM], dims)

    def update(self, ds: xr.Dataset, positions: Sequence[int]) -> None:
        """Draw ``traversal`` (and ``traversal_value``) of ``ds`` at latent ``positions``."""
        trav = ds["traversal"].isel({LATENT_DIM: list(positions)})
        if "traversal_value" in ds.data_vars:
            values = ds["traversal_value"].isel({LATENT_DIM: list(positions)})
            values = np.asarray(values.transpose(LATENT_DIM, OFFSET_DIM).values, dtype=float)
        else:
            values = np.tile(np.asarray(ds[OFFSET_DIM].values, float), (len(positions), 1))
        if len(self.dims) == 1:
            (dim,) = self.dims
            trav = trav.transpose(LATENT_DIM, OFFSET_DIM, dim)
            coord = trav[dim].values
            for i, (source, mapper) in enumerate(zip(self.sources, self.mappers)):
                source.data = {
                    "coord": coord,
                    **{f"v{k}": trav.values[i, k] for k in range(self.offsets)},
                }
                low, high = finite_range(values[i], symmetric=False)
                mapper.update(low=low, high=high)
            return
        h, v = self.dims
        trav = trav.sortby([h, v]).transpose(LATENT_DIM, OFFSET_DIM, v, h)
        gap = 0.06  # of a cell: white space between the tiles
        images, xs, ys, names, shown = [], [], [], [], []
        for i, name in enumerate(self.latents):
            for k in range(self.offsets):
                images.append(trav.values[i, k])
                xs.append(k - 0.5 + gap / 2)
                ys.append(len(self.latents) - 1 - i - 0.5 + gap / 2)
                names.append(name)
                shown.append(float(values[i, k]))
        size = [1 - gap] * len(images)
        self.source.data = {
            "image": images,
            "x": xs,
            "y": ys,
            "dw": size,
            "dh": size,
            "latent": names,
            "value": shown,
        }
        low, high = finite_range(trav.values, symmetric=False)
        self.mapper.update(low=low, high=high)
        self.figures[0].xaxis.ticker = list(range(self.offsets))
        if OFFSET_DIM in ds.coords:
            offsets = np.asarray(ds[OFFSET_DIM].values, float)
            self.figures[0].xaxis.major_label_overrides = {
                k: f"{o:+.2g}" if o else "0" for k, o in enumerate(offsets)
            }


class GalleryPlot:
    """A field generator's live gallery: its samples from fixed noise becoming fields.

    Drawn like :func:`workbench.views.sample_gallery`: a figure per channel (the family's
    input, ``u``) and, when the snapshot has one, per ``residual``. For a 1D grid each figure
    has a line per sample, sample ``k`` in the same colour in every figure; for a 2D grid each
    tiles the samples' images side by side on the channel's colour range (the residual white
    at 0 to red), with a colour bar; hover names the sample and its value.

    Parameters
    ----------
    rows : sequence of str
        The variables drawn, a figure each: the channels, then ``residual`` if present.
    samples : int
        Samples per figure.
    dims : sequence of str
        The grid's dims; 2D images put ``t`` on the horizontal axis.

    Sized to share the Live tab's top row with the loss: 2D tiles are :data:`TILE` px
    squares, stacked a figure per row; 1D figures share a row side by side.
    """

    #: Side of one 2D sample's tile (px): eight of them and the loss fit a 1366 px window.
    TILE = 56

    def __init__(self, rows: Sequence[str], samples: int, dims: Sequence[str]):
        self.rows, self.samples, self.dims = list(rows), int(samples), plot_dims(dims)
        self.figures, self.sources, self.mappers = [], [], []
        for name in self.rows:
            if len(self.dims) == 1:
                fig = figure(
                    title=name,
                    width=max(ROW_WIDTH // len(self.rows), MIN_WIDTH),
                    height=FIELD_HEIGHT,
                    tools=TOOLS,
                    toolbar_location="above",
                )
                source = ColumnDataSource(
                    {"coord": [], **{f"s{k}": [] for k in range(self.samples)}}
                )
                for k in range(self.samples):
                    fig.line(
                        "coord", f"s{k}", source=source, color=Category10_10[k % 10], alpha=0.8
                    )
                self.mappers.append(None)
            else:
                # Square tiles a unit apart; the frame, not the figure, is sized so that a
                # colour bar beside it does not squeeze them.
                fig = figure(
                    title=name,
                    frame_width=self.TILE * self.samples,
                    frame_height=self.TILE,
                    tools=TOOLS,
                    x_range=Range1d(-0.5, self.samples - 0.5),
                    y_range=Range1d(-0.5, 0.5),
                )
                source = ColumnDataSource(
                    {"image": [], "x": [], "y": [], "dw": [], "dh": [], "sample": []}
                )
                mapper = LinearColorMapper(palette=MAGNITUDES if name == "residual" else Viridis256)
                image = fig.image(
                    image="image",
                    x="x",
                    y="y",
                    dw="dw",
                    dh="dh",
                    source=source,
                    color_mapper=mapper,
                )
                fig.add_tools(
                    HoverTool(
                        renderers=[image], tooltips=[("sample", "@sample"), ("value", "@image")]
                    )
                )
                fig.add_layout(colour_bar(mapper), "right")
                fig.axis.visible = False
                fig.grid.visible = False
                self.mappers.append(mapper)
            fig.name = f"gallery-{name}"  # finds it in the page (tests)
            self.figures.append(fig)
            self.sources.append(source)

    @staticmethod
    def key(ds: xr.Dataset) -> tuple:
        """What fixes the plots' shape: new ones are needed when this changes."""
        channels = generated_channels(ds)
        rows = [*channels, *(["residual"] if "residual" in ds.data_vars else [])]
        dims = tuple(d for d in ds[channels[0]].dims if d != "sample")
        return (tuple(rows), ds.sizes["sample"], dims)

    def update(self, ds: xr.Dataset) -> None:
        """Draw the rows of ``ds`` (a snapshot, or ``/fields``, of a field generator)."""
        for name, fig, source, mapper in zip(self.rows, self.figures, self.sources, self.mappers):
            da = ds[name]
            fig.title.text = label_of(da, name)
            if len(self.dims) == 1:
                (dim,) = self.dims
                values = da.transpose("sample", dim).values
                source.data = {
                    "coord": da[dim].values,
                    **{f"s{k}": values[k] for k in range(self.samples)},
                }
                # Bokeh sends a property only when its value changes: no cost after the first.
                fig.xaxis.axis_label = label_of(da[dim], dim)
                fig.yaxis.axis_label = label_of(da, name)
                continue
            h, v = self.dims
            da = da.sortby([h, v]).transpose("sample", v, h)
            gap = 0.06  # of a tile: white space between the samples
            labels = da["sample"].values if "sample" in da.coords else np.arange(self.samples)
            source.data = {
                "image": list(da.values),
                "x": [k - 0.5 + gap / 2 for k in range(self.samples)],
                "y": [-0.5 + gap / 2] * self.samples,
                "dw": [1 - gap] * self.samples,
                "dh": [1 - gap] * self.samples,
                "sample": [str(v) for v in labels],
            }
            if name == "residual":
                high = finite_range(np.abs(da.values), symmetric=True)[1]
                mapper.update(low=0.0, high=high)
            else:
                low, high = finite_range(da.values, symmetric=False)
                mapper.update(low=low, high=high)

"""Native DrawingML charts (bar, column, line, pie) drawn from a block of a tool sheet.

Each series refers to the block's cells (`'Sheet'!$B$3:$B$9`) and carries a cache of the
values, so Excel, WPS and LibreOffice draw it at once, without recalculating.
"""

from __future__ import annotations

import math

from ...ooxml.addresses import col_letter, quote_sheet
from ...ooxml.cellxml import escape_text
from ...ooxml.package import Package
from ..edits import Chart
from .toolsheet import BlockPlace

DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
DRAWING_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"


def _abs(sheet: str, col: int, r1: int, r2: int | None = None) -> str:
    ref = f"{quote_sheet(sheet)}!${col_letter(col)}${r1}"
    return ref + (f":${col_letter(col)}${r2}" if r2 is not None else "")


def _str_cache(values: list[str]) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{escape_text(v)}</c:v></c:pt>' for i, v in enumerate(values))
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{pts}</c:strCache>'


def _num_cache(values: list[float | None]) -> str:
    pts = "".join(f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>' for i, v in enumerate(values) if v is not None)
    return f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{pts}</c:numCache>'


def _number_or_none(v: object) -> float | None:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def chart_xml(chart: Chart, sheet: str, place: BlockPlace, df) -> bytes:
    cat_col = place.columns[chart.categories]
    r1, r2 = place.first_row, max(place.last_row, place.first_row)
    categories = ["" if v is None else str(v) for v in df[chart.categories].tolist()]
    series = []
    for k, name in enumerate(chart.series):
        col = place.columns[name]
        values = [_number_or_none(v) for v in df[name].tolist()]
        marker = '<c:marker><c:symbol val="circle"/></c:marker>' if chart.kind == "line" else ""
        invert = '<c:invertIfNegative val="0"/>' if chart.kind in ("bar", "column") else ""
        series.append(
            f'<c:ser><c:idx val="{k}"/><c:order val="{k}"/>'
            f"<c:tx><c:strRef><c:f>{escape_text(_abs(sheet, col, place.header_row))}</c:f>{_str_cache([name])}</c:strRef></c:tx>"
            f"{invert}{marker}"
            f"<c:cat><c:strRef><c:f>{escape_text(_abs(sheet, cat_col, r1, r2))}</c:f>{_str_cache(categories)}</c:strRef></c:cat>"
            f"<c:val><c:numRef><c:f>{escape_text(_abs(sheet, col, r1, r2))}</c:f>{_num_cache(values)}</c:numRef></c:val>"
            + ('<c:smooth val="0"/>' if chart.kind == "line" else "")
            + "</c:ser>"
        )
    sers = "".join(series)
    axes_ids = '<c:axId val="50010001"/><c:axId val="50010002"/>'
    if chart.kind == "pie":
        plot = f'<c:pieChart><c:varyColors val="1"/>{sers}<c:firstSliceAng val="0"/></c:pieChart>'
        axes = ""
    elif chart.kind == "line":
        grouping = "stacked" if chart.stacked else "standard"
        plot = f'<c:lineChart><c:grouping val="{grouping}"/><c:varyColors val="0"/>{sers}<c:marker val="1"/>{axes_ids}</c:lineChart>'
        axes = _axes("b", "l", chart.axis_format)
    else:
        bar_dir = "bar" if chart.kind == "bar" else "col"
        grouping = "stacked" if chart.stacked else "clustered"
        overlap = '<c:overlap val="100"/>' if chart.stacked else ""
        plot = (
            f'<c:barChart><c:barDir val="{bar_dir}"/><c:grouping val="{grouping}"/><c:varyColors val="0"/>{sers}'
            f'<c:gapWidth val="150"/>{overlap}{axes_ids}</c:barChart>'
        )
        axes = _axes("l", "b", chart.axis_format) if chart.kind == "bar" else _axes("b", "l", chart.axis_format)
    title = (
        f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr b="1"/></a:pPr><a:r><a:t>'
        f'{escape_text(chart.title)}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{NS_C}" xmlns:a="{NS_A}" xmlns:r="{NS_R}"><c:roundedCorners val="0"/>'
        f'<c:chart>{title}<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>{plot}{axes}</c:plotArea>'
        '<c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend><c:plotVisOnly val="1"/>'
        '<c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    )
    return xml.encode("utf-8")


def _axes(cat_pos: str, val_pos: str, value_format: str = "#,##0") -> str:
    return (
        f'<c:catAx><c:axId val="50010001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        f'<c:axPos val="{cat_pos}"/><c:numFmt formatCode="General" sourceLinked="0"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="50010002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="50010002"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/>'
        f'<c:axPos val="{val_pos}"/><c:majorGridlines/><c:numFmt formatCode="{escape_text(value_format)}" sourceLinked="0"/>'
        '<c:tickLblPos val="nextTo"/><c:crossAx val="50010001"/><c:crosses val="autoZero"/>'
        '<c:crossBetween val="between"/></c:valAx>'
    )


def _anchor(k: int, chart: Chart, rid: str) -> str:
    row, col = chart.anchor
    cols, rows = chart.size
    return (
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{col - 1 + cols}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row - 1 + rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{k + 2}" name="Chart {k + 1}"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{NS_C}"><c:chart xmlns:c="{NS_C}" r:id="{rid}"/></a:graphicData></a:graphic>'
        "</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
    )


def new_drawing_part(pkg: Package) -> str:
    part = pkg.unique_name("xl/drawings/drawing{}.xml")
    pkg.write(part, b"")  # reserve the name; filled by add_charts
    return part


def add_charts(
    pkg: Package, drawing: str, sheet: str, charts: list[Chart], places: list[BlockPlace], frames
) -> list[str]:
    """Write the drawing part holding `charts` and one chart part each; return the chart parts."""
    anchors = []
    chart_parts = []
    for k, chart in enumerate(charts):
        part = pkg.unique_name("xl/charts/chart{}.xml")
        pkg.write(part, chart_xml(chart, sheet, places[chart.block], frames[chart.block]))
        pkg.set_override(part, CHART_CT)
        rid = pkg.add_rel(drawing, CHART_REL, part)
        anchors.append(_anchor(k, chart, rid))
        chart_parts.append(part)
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{NS_XDR}" xmlns:a="{NS_A}" xmlns:r="{NS_R}">' + "".join(anchors) + "</xdr:wsDr>"
    )
    pkg.write(drawing, xml.encode("utf-8"))
    pkg.set_override(drawing, DRAWING_CT)
    return chart_parts

using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>A ScottPlot chart as an SVG element to write inline in an HTML page (without its XML declaration).</summary>
internal static class InlineSvg
{
    public static string Of(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        var svg = plot.GetSvgXml(width, height);
        return svg[svg.IndexOf("<svg", StringComparison.Ordinal)..] + "\n";
    }
}

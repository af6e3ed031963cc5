using Lasthope.Core.Identifiers;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Cascade;

/// <summary>
/// The closed set of surfaces: <c>default</c>, the recommend surface, every surface configured under
/// <c>Serving:Surfaces</c> (an empty object declares one with the defaults) and every experiment's surface. A
/// surface names a metric label and keys in-memory maps, so a client cannot invent one: an unknown surface is refused
/// (400 naming the field), or, where <c>Serving:UnknownSurface</c> is <c>default</c>, served and counted as
/// <c>default</c>.
/// </summary>
public sealed class SurfaceCatalog
{
    public const string Default = "default";

    private readonly Dictionary<string, string> _names;

    public SurfaceCatalog(ServingOptions serving, RecommendOptions recommend)
    {
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(recommend);
        var names = new List<string> { Default, recommend.DefaultSurface };
        names.AddRange(serving.Surfaces.Keys);
        names.AddRange(serving.Experiments.Select(e => e.Surface));
        _names = names.Distinct(StringComparer.Ordinal).ToDictionary(n => n, n => n, StringComparer.Ordinal);
        UnknownAsDefault = string.Equals(serving.UnknownSurface, ServingOptions.UnknownSurfaceDefault, StringComparison.Ordinal);
    }

    /// <summary>Every known surface, in no particular order.</summary>
    public IReadOnlyCollection<string> Names => _names.Keys;

    /// <summary>Unknown surfaces are served as <see cref="Default"/> instead of refused.</summary>
    public bool UnknownAsDefault { get; }

    /// <summary>
    /// The surface to serve for <paramref name="requested"/> (<paramref name="fallback"/> when it is null): the
    /// catalogue's own instance of the name, or null with <paramref name="problem"/> saying why.
    /// </summary>
    public string? Resolve(string? requested, string fallback, out string? problem)
    {
        problem = null;
        if (requested is null)
        {
            return _names.GetValueOrDefault(fallback, Default);
        }

        if (_names.TryGetValue(requested, out var known))
        {
            return known;
        }

        if (UnknownAsDefault)
        {
            return Default;
        }

        problem = $"unknown surface '{Ids.Printable(requested)}'; this server serves {string.Join(", ", _names.Keys.Order(StringComparer.Ordinal))} (configure more under Serving:Surfaces).";
        return null;
    }

}

using System.Text.RegularExpressions;

namespace Lasthope.Server.Configuration;

/// <summary>
/// The shape of a name that configuration gives to a surface, an experiment or an arm: 1 to 64 letters, digits, '_',
/// '.', ':' or '-', starting with a letter or digit. Such names become metric labels, map keys and URL segments.
/// </summary>
public static partial class ConfiguredName
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

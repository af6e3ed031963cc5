using System.Globalization;

namespace Lasthope.Cli.Commands;

/// <summary>
/// A user's interactions for fold-in: today those listed with <c>--item ITEM[=WEIGHT]</c>; a store-backed lookup of the
/// user's events belongs beside <see cref="TryParse"/>.
/// </summary>
internal static class UserInteractions
{
    public static bool TryParse(IEnumerable<string> values, out IReadOnlyList<KeyValuePair<string, float>> interactions, out string error)
    {
        var list = new List<KeyValuePair<string, float>>();
        interactions = list;
        error = "";
        foreach (var value in values)
        {
            var eq = value.LastIndexOf('=');
            if (eq < 0)
            {
                list.Add(new(value, 1f));
                continue;
            }

            if (!float.TryParse(value.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !float.IsFinite(weight) || eq == 0)
            {
                error = $"--item '{value}' is not ITEM or ITEM=WEIGHT with a finite weight.";
                return false;
            }

            list.Add(new(value[..eq], weight));
        }

        return true;
    }
}

using System.Globalization;
using System.Text;

namespace Lasthope.Trees.Native;

/// <summary>Operations on LightGBM's text model format.</summary>
public static class LightGbmText
{
    /// <summary>
    /// The average of single-output models over the same features, as one LightGBM text model: every tree of every
    /// model, each leaf value divided by the number of models. A GBDT's score is the sum of its trees' leaf values
    /// (shrinkage is already in them), so the result scores exactly the mean of the models' scores (to rounding): a
    /// bagged ensemble (Breiman 1996) of boosted models. The header is the first model's, without <c>tree_sizes</c>
    /// (which no longer holds); the feature importances and parameters sections are left out.
    /// </summary>
    /// <exception cref="ArgumentException">No models, a model with no trees, or models whose features differ.</exception>
    public static string Average(IReadOnlyList<string> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
        {
            throw new ArgumentException("Nothing to average.", nameof(models));
        }

        var scale = 1.0 / models.Count;
        var output = new StringBuilder();
        string? features = null;
        var index = 0;
        for (var m = 0; m < models.Count; m++)
        {
            var lines = models[m].Split('\n');
            var first = Array.FindIndex(lines, l => l.StartsWith("Tree=", StringComparison.Ordinal));
            var end = Array.FindIndex(lines, l => l.TrimEnd('\r') == "end of trees");
            if (first < 0 || end < first)
            {
                throw new ArgumentException($"Model {m} has no trees.", nameof(models));
            }

            var names = lines.Take(first).FirstOrDefault(l => l.StartsWith("feature_names=", StringComparison.Ordinal));
            if (m == 0)
            {
                features = names;
                foreach (var line in lines.Take(first).Where(l => !l.StartsWith("tree_sizes=", StringComparison.Ordinal)))
                {
                    output.Append(line.TrimEnd('\r')).Append('\n');
                }
            }
            else if (names != features)
            {
                throw new ArgumentException($"Model {m} has other features than model 0.", nameof(models));
            }

            for (var l = first; l < end; l++)
            {
                var line = lines[l].TrimEnd('\r');
                if (line.StartsWith("Tree=", StringComparison.Ordinal))
                {
                    output.Append("Tree=").Append(index++.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                else if (line.StartsWith("leaf_value=", StringComparison.Ordinal))
                {
                    var values = line["leaf_value=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                        .Select(v => (double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture) * scale).ToString("R", CultureInfo.InvariantCulture));
                    output.Append("leaf_value=").Append(string.Join(' ', values)).Append('\n');
                }
                else
                {
                    output.Append(line).Append('\n');
                }
            }
        }

        return output.Append("end of trees\n").ToString();
    }
}

using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;

namespace Lasthope.Cli.Load;

/// <summary>Prediction request bodies from a CSV file: each row's cells by its header's names (a number, a string, or null when empty).</summary>
internal static class PredictBodies
{
    public static IReadOnlyList<byte[]> FromCsv(string path, int max, int explain)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true, Trim = SepTrim.All }).FromFile(path);
        var names = reader.Header.ColNames.ToArray();
        var bodies = new List<byte[]>();
        foreach (var row in reader)
        {
            if (bodies.Count >= max)
            {
                break;
            }

            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteStartObject("features");
                for (var c = 0; c < names.Length; c++)
                {
                    var cell = row[c].ToString();
                    if (cell.Length == 0)
                    {
                        json.WriteNull(names[c]);
                    }
                    else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                    {
                        json.WriteNumber(names[c], number);
                    }
                    else
                    {
                        json.WriteString(names[c], cell);
                    }
                }

                json.WriteEndObject();
                json.WriteNumber("explain", explain);
                json.WriteEndObject();
            }

            bodies.Add(stream.ToArray());
        }

        return bodies.Count > 0 ? bodies : throw new InvalidDataException($"{path} has no rows.");
    }
}

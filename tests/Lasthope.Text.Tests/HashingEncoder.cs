using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>A deterministic stand-in for the sentence encoder: hashed character trigrams, unit length.</summary>
internal sealed class HashingEncoder(string name = "hashing-test", int dimensions = 16) : ITextEncoder
{
    public string Name => name;

    public int Dimensions => dimensions;

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => [.. texts.Select(Vector)];

    private float[] Vector(string text)
    {
        var v = new float[dimensions];
        for (var i = 0; i + 3 <= text.Length; i++)
        {
            v[(int)((uint)string.GetHashCode(text.AsSpan(i, 3), StringComparison.Ordinal) % (uint)dimensions)] += 1;
        }

        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return norm == 0 ? v : [.. v.Select(x => x / norm)];
    }
}

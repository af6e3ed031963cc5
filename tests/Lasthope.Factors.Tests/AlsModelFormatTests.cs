using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class AlsModelFormatTests
{
    private const string GoldenFile = "Golden/als-v1.lhals";

    /// <summary>The content of the golden file: three users, four items, three factors, written by format version 1.</summary>
    internal static AlsModel GoldenModel()
    {
        var options = new AlsOptions { Factors = 3, Regularization = 0.25f, Alpha = 7.5f, Iterations = 12, CgSteps = 4, Seed = 1234 };
        float[] users = [0.5f, -1f, 2f, 1.25f, 0f, -0.75f, 0f, 0f, 0f];
        float[] items = [1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f, 0.5f, 0.5f, -0.5f];
        return AlsModel.Create(IdMap.Create(["ana", "bo", "cloé"]), IdMap.Create(["monitors", "4k vs 8k monitors", "keyboards", "mice, wireless"]), 3, users, items, options, [[0, 1], [3], []]);
    }

    [Fact]
    public void SaveThenLoad_RoundTripsEverything_AndRewritesTheSameBytes()
    {
        var data = TestMatrices.Random(40, 25, 0.2, seed: 21);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 20, Iterations = 2, Alpha = 3f, Confidence = ConfidenceScaling.Logarithmic, Epsilon = 0.5f });
        var bytes = Save(model);
        var loaded = AlsModel.Load(new MemoryStream(bytes));

        Assert.Equal(model.Users.ToArray(), loaded.Users.ToArray());
        Assert.Equal(model.Items.ToArray(), loaded.Items.ToArray());
        Assert.Equal(model.UserMatrix.All.ToArray(), loaded.UserMatrix.All.ToArray());
        Assert.Equal(model.ItemMatrix.All.ToArray(), loaded.ItemMatrix.All.ToArray());
        Assert.Equal(model.AllSeenItems.ToArray(), loaded.AllSeenItems.ToArray());
        Assert.Equal(model.SeenStart.ToArray(), loaded.SeenStart.ToArray());
        Assert.Equal(model.ItemUserCounts.ToArray(), loaded.ItemUserCounts.ToArray());
        Assert.Equal(model.Training.FinalLoss, loaded.Training.FinalLoss);
        Assert.Equal(model.Training.Options with { Threads = 1 }, loaded.Training.Options with { Threads = 1 });
        Assert.Equal(model.Fingerprint, loaded.Fingerprint);
        Assert.Equal(bytes, Save(loaded));
    }

    [Fact]
    public void GoldenFile_StillLoads_WithItsKnownContent()
    {
        var path = Path.Combine(AppContext.BaseDirectory, GoldenFile);
        var loaded = AlsModel.Load(path);
        var expected = GoldenModel();

        Assert.Equal(["ana", "bo", "cloé"], loaded.Users.ToArray());
        Assert.Equal(["monitors", "4k vs 8k monitors", "keyboards", "mice, wireless"], loaded.Items.ToArray());
        Assert.Equal(3, loaded.Factors);
        Assert.Equal(0.25f, loaded.Regularization);
        Assert.Equal(7.5f, loaded.Training.Options.Alpha);
        Assert.Equal(12, loaded.Training.IterationsTrained);
        Assert.Equal(4, loaded.Training.Options.CgSteps);
        Assert.Equal(1234, loaded.Training.Options.Seed);
        Assert.Equal([0.5f, -1f, 2f], loaded.UserFactors(0).ToArray());
        Assert.Equal([0.5f, 0.5f, -0.5f], loaded.ItemFactors(3).ToArray());
        Assert.Equal([0, 1], loaded.SeenItems(0).ToArray());
        Assert.Equal([1, 1, 0, 1], loaded.ItemUserCounts.ToArray());
        Assert.Equal(["keyboards", "mice, wireless"], loaded.Recommend("ana", 2).Select(r => r.ItemId));
        Assert.Equal(expected.Fingerprint, loaded.Fingerprint);
        Assert.Equal(File.ReadAllBytes(path), Save(expected));
    }

    [Fact]
    public void Load_Refuses_AFileWithTheWrongMagic()
    {
        var bytes = Save(GoldenModel());
        bytes[1] = (byte)'X';
        var e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(new MemoryStream(bytes)));
        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Refuses_AnUnknownVersion()
    {
        var bytes = Save(GoldenModel());
        bytes[8] = 2;
        var e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(new MemoryStream(bytes)));
        Assert.Contains("version 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Refuses_ADamagedHeader_BeforeAllocating()
    {
        var bytes = Save(GoldenModel());
        bytes[22] ^= 0x40; // the user count's third byte: would promise millions of users
        var e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(new MemoryStream(bytes)));
        Assert.Contains("header CRC-32C", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Refuses_CorruptFactors_ByTheTrailerChecksum()
    {
        var bytes = Save(GoldenModel());
        bytes[^30] ^= 0x01;
        var e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(new MemoryStream(bytes)));
        Assert.Contains("CRC-32C of the content", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Refuses_EveryTruncation_AsTruncated()
    {
        var bytes = Save(GoldenModel());
        for (var length = 0; length < bytes.Length; length++)
        {
            var seekable = new MemoryStream(bytes, 0, length);
            var e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(seekable));
            Assert.Contains("Truncated", e.Message, StringComparison.Ordinal);
            var forwardOnly = new ForwardOnlyStream(bytes.AsSpan(0, length).ToArray());
            e = Assert.Throws<InvalidDataException>(() => AlsModel.Load(forwardOnly));
            Assert.Contains("Truncated", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Save_ToAFile_WritesAtomically_AndLoads()
    {
        var dir = Directory.CreateTempSubdirectory("lhals-");
        try
        {
            var path = Path.Combine(dir.FullName, "m.lhals");
            GoldenModel().Save(path);
            Assert.Equal(GoldenModel().Fingerprint, AlsModel.Load(path).Fingerprint);
            Assert.Single(Directory.GetFiles(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Version_NamesTheFingerprint()
    {
        var model = GoldenModel();
        Assert.Equal($"als-{model.Fingerprint:x8}", model.Version);
    }

    /// <summary>Writes the golden file; run once with LASTHOPE_WRITE_GOLDEN=1 when the format version changes.</summary>
    [Fact]
    public void WriteGoldenFile_WhenAsked()
    {
        if (Environment.GetEnvironmentVariable("LASTHOPE_WRITE_GOLDEN") != "1")
        {
            Assert.Skip("Set LASTHOPE_WRITE_GOLDEN=1 to rewrite the golden model file.");
        }

        // Run from the repository root (dotnet test --project ...), or set LASTHOPE_GOLDEN_DIR to this project's folder.
        var folder = Environment.GetEnvironmentVariable("LASTHOPE_GOLDEN_DIR") ?? Path.Combine(Lasthope.Testing.TestData.RepositoryRoot, "tests", "Lasthope.Factors.Tests");
        var target = Path.Combine(folder, GoldenFile);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.WriteAllBytes(target, Save(GoldenModel()));
        Assert.True(File.Exists(target));
    }

    private static byte[] Save(AlsModel model)
    {
        var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

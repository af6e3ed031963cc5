using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Lasthope.Trees.Evaluation;
using Lasthope.Trees.Loading;

namespace Lasthope.Trees;

/// <summary>
/// A gradient-boosted tree ensemble loaded from a LightGBM text model or an XGBoost JSON model: immutable after
/// loading and safe to share between threads.
/// <para>
/// Scoring takes a dense row-major matrix: document i's features are <c>features[i * FeatureCount ..
/// (i + 1) * FeatureCount]</c>, in the model's feature order (<see cref="FeatureNames"/>); a missing value is NaN.
/// Scores are raw (the sum of the trees, the margin); <see cref="Transform(double)"/> turns them into the objective's
/// prediction (a probability for binary models). With double inputs the scores equal lib_lightgbm's
/// <c>LGBM_BoosterPredictForMat</c> (C_API_PREDICT_RAW_SCORE) bit for bit; float inputs are exact too, since every
/// float is a double and thresholds are rounded so that float comparisons give the same answers.
/// </para>
/// </summary>
public sealed unsafe class TreeModel
{
    /// <summary>
    /// Documents are scored in blocks of this many: a cancelled call reports a multiple of it (or the whole count) as
    /// the number of leading documents whose scores are complete.
    /// </summary>
    public const int ScoringBlockSize = CompiledForest.BlockSize;

    [ThreadStatic]
    private static double[]? _threadScratchD;

    [ThreadStatic]
    private static float[]? _threadScratchF;

    private readonly CompiledForest _forest;
    private readonly string[] _featureNames;

    private TreeModel(SourceEnsemble source, string fingerprint)
    {
        _forest = new CompiledForest(source);
        _featureNames = source.FeatureNames;
        FeatureNames = Array.AsReadOnly(_featureNames);
        Format = source.Format;
        FormatVersion = source.FormatVersion;
        Objective = source.Objective;
        Boosting = source.Boosting;
        OutputTransform = source.Transform;
        SigmoidScale = source.SigmoidScale;
        BaseScore = source.BaseScore;
        AverageOutput = source.AverageOutput;
        Fingerprint = fingerprint;
        LeafCount = source.Trees.Sum(t => t.LeafCount);
        HasCovers = source.Trees.All(t => t.InternalCount == 0 || t.InternalCover[0] > 0);
    }

    /// <summary>
    /// Whether the file records how much training data reached each node (LightGBM's <c>internal_count</c> and
    /// <c>leaf_count</c>, XGBoost's <c>sum_hessian</c>). TreeSHAP needs them; a model without them still scores.
    /// </summary>
    public bool HasCovers { get; }

    /// <summary>The format the model was read from.</summary>
    public ModelFormat Format { get; }

    /// <summary>The format's version as the file states it (<c>v4</c>; XGBoost's <c>1.7.4</c>).</summary>
    public string FormatVersion { get; }

    /// <summary>The objective line as the file states it (<c>lambdarank</c>, <c>binary sigmoid:1</c>, <c>rank:ndcg</c>).</summary>
    public string Objective { get; }

    /// <summary>The boosting type (<c>gbdt</c>, <c>dart</c>, <c>rf</c>, <c>goss</c>; <c>gbtree</c> for XGBoost).</summary>
    public string Boosting { get; }

    /// <summary>How a raw score becomes the objective's prediction.</summary>
    public OutputTransform OutputTransform { get; }

    /// <summary>The sigmoid's scale a, for <see cref="OutputTransform.Sigmoid"/> (LightGBM's <c>sigmoid</c> parameter).</summary>
    public double SigmoidScale { get; }

    /// <summary>The constant added to every raw score (XGBoost's base margin; 0 for LightGBM).</summary>
    public double BaseScore { get; }

    /// <summary>
    /// A LightGBM random forest (boosting=rf): the prediction is the mean of the trees. As in LightGBM, the raw score is
    /// still their sum (the order is the same); <see cref="Transform(double)"/> divides.
    /// </summary>
    public bool AverageOutput { get; }

    /// <summary>Number of input features: the length of one document's row.</summary>
    public int FeatureCount => _forest.FeatureCount;

    /// <summary>Feature names in input order (LightGBM <c>feature_names</c>; XGBoost's where present, else f0, f1, ...).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Number of trees.</summary>
    public int TreeCount => _forest.TreeCount;

    /// <summary>Total number of leaves over all trees.</summary>
    public int LeafCount { get; }

    /// <summary>The deepest leaf's depth, in edges from its root.</summary>
    public int MaxDepth => _forest.MaxDepth;

    /// <summary>
    /// <c>sha256:</c> and the hex SHA-256 of the model file's bytes: two models with the same fingerprint are the same
    /// file. Use it as the model's version in responses and logs.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Loads a model file, recognising the format by its content (JSON is XGBoost, <c>tree</c> is LightGBM).</summary>
    /// <exception cref="ModelLoadException">The file is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".ubj", StringComparison.OrdinalIgnoreCase))
        {
            throw ModelLoadException.Unsupported("XGBoost's binary UBJSON format is not supported; save the model as .json.");
        }

        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses a model from its file content, recognising the format.</summary>
    /// <exception cref="ModelLoadException">The content is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel Parse(ReadOnlySpan<byte> content)
    {
        var start = 0;
        while (start < content.Length && (content[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' || content[start] == 0xEF || content[start] == 0xBB || content[start] == 0xBF))
        {
            start++;
        }

        if (start < content.Length && content[start] == (byte)'{')
        {
            return FromXGBoostJson(content);
        }

        if (content[start..].StartsWith("tree"u8))
        {
            return FromLightGbm(Encoding.UTF8.GetString(content[start..]), Hash(content));
        }

        throw ModelLoadException.Corrupt(content.IsEmpty
            ? "The model file is empty."
            : "Not a model: neither a LightGBM text model (starting 'tree') nor an XGBoost JSON model (starting '{').");
    }

    /// <summary>Parses LightGBM model text (what <c>save_model</c> writes, or what the trainer returns).</summary>
    /// <exception cref="ModelLoadException">The text is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel FromLightGbm(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        return FromLightGbm(modelText, Hash(Encoding.UTF8.GetBytes(modelText)));
    }

    /// <summary>Parses an XGBoost JSON model from its UTF-8 bytes.</summary>
    /// <exception cref="ModelLoadException">The JSON is malformed, truncated, or uses something not supported.</exception>
    public static TreeModel FromXGBoostJson(ReadOnlySpan<byte> utf8Json) =>
        new(XGBoostJsonReader.Read(utf8Json), Hash(utf8Json));

    private static TreeModel FromLightGbm(string text, string fingerprint) => new(LightGbmTextReader.Read(text), fingerprint);

    private static string Hash(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>
    /// Scores documents into <paramref name="scores"/> (raw scores), one per document in input order, allocating nothing
    /// (each thread keeps one scratch buffer, grown on first use).
    /// </summary>
    /// <param name="features">
    /// Row-major features: at least <c>scores.Length * FeatureCount</c> values; document i starts at
    /// <c>i * FeatureCount</c>. NaN is a missing value. Only the first <c>scores.Length</c> documents are read, so a
    /// prefix of a larger matrix is scored by passing a shorter <paramref name="scores"/>.
    /// </param>
    /// <param name="scores">Receives the raw scores; its length is the number of documents to score.</param>
    /// <param name="cancellationToken">
    /// Checked before each block of <see cref="ScoringBlockSize"/> documents and between blocks of 64 trees. When it is
    /// cancelled the method returns early instead of throwing.
    /// </param>
    /// <returns>
    /// The number of leading documents whose scores are complete: <c>scores.Length</c>, or on cancellation a multiple
    /// of <see cref="ScoringBlockSize"/>. Scores past that count are unspecified.
    /// </returns>
    public int Score(ReadOnlySpan<double> features, Span<double> scores, CancellationToken cancellationToken = default) =>
        ScoreCore(features, scores, ref _threadScratchD, cancellationToken);

    /// <summary>
    /// Scores documents given as floats: the same results as the double overload on the same values widened to double,
    /// and faster (half the memory traffic).
    /// </summary>
    /// <inheritdoc cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>
    public int Score(ReadOnlySpan<float> features, Span<double> scores, CancellationToken cancellationToken = default) =>
        ScoreCore(features, scores, ref _threadScratchF, cancellationToken);

    /// <summary>The raw score of one document (<paramref name="row"/> has <see cref="FeatureCount"/> values).</summary>
    public double Score(ReadOnlySpan<double> row)
    {
        Span<double> score = stackalloc double[1];
        Score(row, score);
        return score[0];
    }

    private int ScoreCore<T>(ReadOnlySpan<T> features, Span<double> scores, ref T[]? scratchSlot, CancellationToken cancellationToken)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var count = scores.Length;
        var featureCount = FeatureCount;
        if ((long)count * featureCount > features.Length)
        {
            ThrowTooFewFeatures(features.Length, count, featureCount);
        }

        if (count == 0)
        {
            return 0;
        }

        var needed = _forest.SlotCount * CompiledForest.BlockSize;
        var scratch = scratchSlot;
        if (scratch is null || scratch.Length < needed)
        {
            scratch = scratchSlot = new T[needed];
        }

        var forest = _forest;
        var trees = forest.TreeCount;
        var general = forest.HasCategorical;
        var accumulator = stackalloc double[CompiledForest.BlockSize];
        fixed (T* rows = features)
        fixed (T* x = scratch)
        {
            for (var start = 0; start < count; start += CompiledForest.BlockSize)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return start;
                }

                var n = Math.Min(CompiledForest.BlockSize, count - start);
                if (general)
                {
                    ForestKernels.Preprocess(forest, rows + ((nint)start * featureCount), featureCount, n, x, CompiledForest.BlockSize);
                }
                else
                {
                    ForestKernels.PreprocessKeys(forest, rows + ((nint)start * featureCount), featureCount, n, x);
                }

                new Span<double>(accumulator, CompiledForest.BlockSize).Fill(BaseScore);
                for (var t = 0; t < trees; t += CompiledForest.TreeBlockSize)
                {
                    if (t > 0 && cancellationToken.IsCancellationRequested)
                    {
                        return start;
                    }

                    var end = Math.Min(trees, t + CompiledForest.TreeBlockSize);
                    if (general)
                    {
                        ForestKernels.AddTreesGeneral(forest, x, n, accumulator, t, end);
                    }
                    else
                    {
                        ForestKernels.AddTrees<T>(forest, x, (n + 7) >> 3, accumulator, t, end);
                    }
                }

                new ReadOnlySpan<double>(accumulator, n).CopyTo(scores.Slice(start, n));
            }
        }

        return count;
    }

    /// <summary>
    /// Applies <see cref="OutputTransform"/> to a raw score (for a random forest, after dividing by the number of trees,
    /// as LightGBM's normal prediction does).
    /// </summary>
    public double Transform(double raw) => (AverageOutput && TreeCount > 0 ? raw / TreeCount : raw) switch
    {
        var r when OutputTransform == OutputTransform.Sigmoid => 1.0 / (1.0 + Math.Exp(-SigmoidScale * r)),
        var r when OutputTransform == OutputTransform.Exponential => Math.Exp(r),
        var r when OutputTransform == OutputTransform.SignedSquare => Math.Sign(r) * r * r,
        var r => r,
    };

    /// <summary>Applies <see cref="OutputTransform"/> to raw scores in place.</summary>
    public void Transform(Span<double> scores)
    {
        if (OutputTransform == OutputTransform.Identity && !AverageOutput)
        {
            return;
        }

        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = Transform(scores[i]);
        }
    }

    /// <summary>
    /// The leaf each tree sends the document to, numbered as the source format numbers them (LightGBM's leaf index, as
    /// <c>C_API_PREDICT_LEAF_INDEX</c> reports it; XGBoost's node id, as <c>pred_leaf</c> reports it).
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="leaves">Receives <see cref="TreeCount"/> leaf indices.</param>
    public void GetLeafIndices(ReadOnlySpan<double> row, Span<int> leaves)
    {
        RequireRow(row);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaves.Length, TreeCount, nameof(leaves));
        var slots = stackalloc double[_forest.SlotCount];
        PreprocessOne(row, slots);
        for (var t = 0; t < TreeCount; t++)
        {
            var node = Walk(t, slots);
            leaves[t] = _forest.LeafIds[node];
        }
    }

    /// <summary>
    /// Exact path-dependent TreeSHAP values of one document (Lundberg et al. 2018), in raw-score units: the
    /// contribution of each feature, then the bias (the model's expected raw score over its training data) at index
    /// <see cref="FeatureCount"/>. They add up to the raw score. The layout and the values are those of LightGBM's
    /// <c>C_API_PREDICT_CONTRIB</c>. Cost: O(leaves * depth^2) per tree, like LightGBM's own (about 12 ms for 500
    /// trees of 63 leaves and depth up to 20, on one core): for explaining one document on demand, not a ranking.
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="contributions">Receives <see cref="FeatureCount"/> + 1 values; it is overwritten.</param>
    /// <exception cref="InvalidOperationException">The model has no covers (<see cref="HasCovers"/> is false).</exception>
    public void ExplainShap(ReadOnlySpan<double> row, Span<double> contributions)
    {
        if (!HasCovers)
        {
            throw new InvalidOperationException("TreeSHAP needs the training data count of every node (internal_count, leaf_count), which this model file does not have.");
        }

        RequireRow(row);
        RequireContributions(contributions);
        contributions[..(FeatureCount + 1)].Clear();
        var slots = stackalloc double[_forest.SlotCount];
        PreprocessOne(row, slots);
        TreeShap.Explain(_forest, slots, contributions[..(FeatureCount + 1)]);
        contributions[FeatureCount] += BaseScore;
    }

    /// <summary>
    /// A cheap attribution for ranking responses (Saabas 2014, "interpreting random forests"): along the document's path
    /// in every tree, each split's feature is credited with the change in the expected output from the node to the
    /// child taken. Same layout and the same bias as <see cref="ExplainShap"/>, and the values also add up to the raw
    /// score, but it costs one walk per tree (about 30 µs a document for 500 trees of 63 leaves), so the top of a
    /// ranking can be explained within a request. Unlike SHAP it over-credits features near the leaves; use it to say which features
    /// moved an item, and SHAP when the exact share matters.
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="contributions">Receives <see cref="FeatureCount"/> + 1 values; it is overwritten.</param>
    public void ExplainPath(ReadOnlySpan<double> row, Span<double> contributions)
    {
        RequireRow(row);
        RequireContributions(contributions);
        var phi = contributions[..(FeatureCount + 1)];
        phi.Clear();
        var slots = stackalloc double[_forest.SlotCount];
        PreprocessOne(row, slots);
        var forest = _forest;
        var bias = BaseScore;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            var node = forest.Root[t];
            bias += forest.Value[node];
            var leafStart = forest.LeafStart[t];
            while (node < leafStart)
            {
                var next = ForestKernels.Next(forest, node, slots, 1, 0);
                phi[forest.NodeFeature(node)] += forest.Value[next] - forest.Value[node];
                node = next;
            }
        }

        phi[FeatureCount] = bias;
    }

    /// <summary>Structure and feature importance: what <c>lasthope model inspect</c> prints.</summary>
    public TreeModelSummary Summarize()
    {
        var forest = _forest;
        var splits = new int[FeatureCount];
        var gains = new double[FeatureCount];
        long leafDepthSum = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            var stack = new Stack<(int Node, int Depth)>();
            stack.Push((forest.Root[t], 0));
            while (stack.Count > 0)
            {
                var (node, depth) = stack.Pop();
                if (forest.IsLeaf(t, node))
                {
                    leafDepthSum += depth;
                    continue;
                }

                var f = forest.NodeFeature(node);
                splits[f]++;
                gains[f] += forest.Gain[node];
                stack.Push((forest.Left[node], depth + 1));
                stack.Push((forest.Right[node], depth + 1));
            }
        }

        var importance = Enumerable.Range(0, FeatureCount)
            .Where(f => splits[f] > 0)
            .Select(f => new FeatureImportance(f, _featureNames[f], splits[f], gains[f]))
            .OrderByDescending(i => i.Gain)
            .ThenBy(i => i.Feature)
            .ToArray();
        return new TreeModelSummary(
            Format, FormatVersion, Objective, Boosting, OutputTransform, TreeCount, LeafCount, MaxDepth,
            LeafCount == 0 ? 0 : (double)leafDepthSum / LeafCount, FeatureCount, importance.Length, importance, Fingerprint);
    }

    private int Walk(int tree, double* slots)
    {
        var node = _forest.Root[tree];
        var leafStart = _forest.LeafStart[tree];
        while (node < leafStart)
        {
            node = ForestKernels.Next(_forest, node, slots, 1, 0);
        }

        return node;
    }

    private void PreprocessOne(ReadOnlySpan<double> row, double* slots)
    {
        fixed (double* r = row)
        {
            ForestKernels.Preprocess(_forest, r, FeatureCount, 1, slots, 1);
        }
    }

    private void RequireRow(ReadOnlySpan<double> row)
    {
        if (row.Length < FeatureCount)
        {
            ThrowTooFewFeatures(row.Length, 1, FeatureCount);
        }
    }

    private void RequireContributions(Span<double> contributions)
    {
        if (contributions.Length < FeatureCount + 1)
        {
            throw new ArgumentException($"Contributions need {FeatureCount + 1} values (one per feature and the bias), got {contributions.Length}.", nameof(contributions));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooFewFeatures(int length, int documents, int featureCount) =>
        throw new ArgumentException($"{documents} documents of {featureCount} features need {(long)documents * featureCount} values, got {length}.");
}

/// <summary>A feature's share of the model: how many splits use it and the total gain of those splits.</summary>
/// <param name="Feature">Index in the model's input.</param>
/// <param name="Name">The model's name for it.</param>
/// <param name="Splits">Number of splits on the feature (LightGBM's importance_type=split).</param>
/// <param name="Gain">Sum of the splits' gains (importance_type=gain).</param>
public sealed record FeatureImportance(int Feature, string Name, int Splits, double Gain);

/// <summary>What a model is made of, for people (<c>lasthope model inspect</c>) and for logs.</summary>
public sealed record TreeModelSummary(
    ModelFormat Format,
    string FormatVersion,
    string Objective,
    string Boosting,
    OutputTransform OutputTransform,
    int Trees,
    int Leaves,
    int MaxDepth,
    double MeanLeafDepth,
    int Features,
    int FeaturesUsed,
    IReadOnlyList<FeatureImportance> Importance,
    string Fingerprint);

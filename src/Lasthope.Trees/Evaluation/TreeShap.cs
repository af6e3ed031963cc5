using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
/// Ensembles", 2018; LightGBM's Tree::TreeSHAP in src/io/tree.cpp computes the same values), leaf by leaf, with each
/// leaf's Shapley weights as an integral evaluated by Gauss-Legendre quadrature in vectors.
/// <para>
/// The maths. Take one leaf with value v and the unique features on its path, j = 1..D, each with a zero fraction
/// z_j (the product over the path's splits on j of cover(child) / cover(node): the share of training data that
/// follows the path when j is unknown) and a one fraction o_j (1 when the document itself satisfies every split on j
/// along the path, else 0). TreeSHAP gives feature i of the path the share
/// </para>
/// <code>
///   phi_i += v (o_i - z_i) sum_{S subset of the others} |S|! (D - 1 - |S|)! / D! * prod_{j in S} o_j * prod_{j not in S} z_j
/// </code>
/// <para>
/// and the Shapley weight is a Beta integral, |S|! (D - 1 - |S|)! / D! = integral_0^1 u^|S| (1 - u)^(D - 1 - |S|) du,
/// so the whole sum is one integral of a product (the observation behind Linear TreeShap: Yu, Bai, Bifet and Read,
/// "Linear TreeShap", NeurIPS 2022, who evaluate it by polynomial interpolation):
/// </para>
/// <code>
///   phi_i += v (o_i - z_i) integral_0^1 prod_{j != i} (z_j + u (o_j - z_j)) du
/// </code>
/// <para>
/// The integrand is a polynomial of degree D - 1, which Gauss-Legendre quadrature with ceil(D / 2) points integrates
/// exactly (up to rounding). A leaf's factors f_j(u) = z_j + u (o_j - z_j) are evaluated at the 4, 8, 12, ... points of
/// the rule in Vector256 lanes; a prefix and a suffix product give each prod_{j != i} with no division; a dot
/// product with the weights gives the integral. That is O(D) vector operations per leaf and feature where the
/// recursive algorithm does an O(D) scalar unwind with divisions, and nothing is recursive: the leaves' element lists
/// (feature, z, and the splits that decide o) are precomputed per model, the document's direction at each node is
/// computed once per tree. The results equal the recursive algorithm's to about 1e-15 relative (tested against it and
/// against lib_lightgbm's C_API_PREDICT_CONTRIB).
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class TreeShap
{
    private const int Lanes = 4;

    /// <summary>
    /// Adds the contributions of the trees of class <paramref name="classIndex"/> (every class when it is -1, class k's
    /// into block k of <paramref name="phi"/>) to <paramref name="phi"/>: feature count + 1 entries per block, the last
    /// the bias. <paramref name="keys"/> holds the document's slot keys, one column.
    /// </summary>
    public static void Explain(CompiledForest forest, long* keys, Span<double> phi, int classIndex)
    {
        var layout = forest.Shap;
        var width = forest.FeatureCount + 1;
        var scratch = Scratch(layout);
        var goesLeft = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(scratch.Directions));
        var prefix = (Vector256<double>*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(scratch.Prefix));
        var suffix = stackalloc Vector256<double>[layout.Rules.Length];
        fixed (double* phiBase = phi)
        fixed (int* elementStart = layout.ElementStart)
        fixed (int* features = layout.Feature)
        fixed (double* zeros = layout.Zero)
        fixed (int* conditionStart = layout.ConditionStart)
        fixed (int* conditions = layout.Condition)
        fixed (double* leafValues = layout.LeafValue)
        {
            for (var t = 0; t < forest.TreeCount; t++)
            {
                var k = forest.TreeClass[t];
                if (classIndex >= 0 && k != classIndex)
                {
                    continue;
                }

                var p = phiBase + (classIndex >= 0 ? 0 : k * width);
                p[width - 1] += forest.TreeBias[t];

                // The document's direction at every internal node, once.
                var root = forest.Root[t];
                var internals = forest.LeafStart[t] - root;
                for (var i = 0; i < internals; i++)
                {
                    var node = root + i;
                    goesLeft[i] = ForestKernels.GoesLeft(forest, node, keys[forest.NodeSlot[node]]) ? (byte)1 : (byte)0;
                }

                for (var leaf = layout.LeafStart[t]; leaf < layout.LeafStart[t + 1]; leaf++)
                {
                    var first = elementStart[leaf];
                    var depth = elementStart[leaf + 1] - first;
                    if (depth == 0)
                    {
                        continue;
                    }

                    // The rule with 4 * vectors points integrates degree 8 * vectors - 1 exactly: enough for D factors but one.
                    var vectors = (depth + 7) >> 3;
                    var rule = layout.Rules[vectors - 1];
                    var value = leafValues[leaf];
                    fixed (double* u = rule.Points)
                    fixed (double* w = rule.Weights)
                    {
                        // prefix[j] = w * prod_{i < j} f_i, at every point; the one fraction o_j of each element is
                        // stored beside it for the backward pass.
                        for (var v = 0; v < vectors; v++)
                        {
                            prefix[v] = Vector256.Load(w + (v * Lanes));
                        }

                        for (var j = 0; j < depth; j++)
                        {
                            var e = first + j;
                            var one = 1.0;
                            for (var c = conditionStart[e]; c < conditionStart[e + 1]; c++)
                            {
                                var condition = conditions[c];
                                one = goesLeft[condition >> 1] == (condition & 1) ? one : 0.0;
                            }

                            scratch.One[j] = one;
                            var z = Vector256.Create(zeros[e]);
                            var slope = Vector256.Create(one - zeros[e]);
                            var row = prefix + (j * vectors);
                            for (var v = 0; v < vectors; v++)
                            {
                                row[vectors + v] = row[v] * (z + (slope * Vector256.Load(u + (v * Lanes))));
                            }
                        }

                        // Backward: suffix = prod_{i > j} f_i, so prefix[j] * suffix is w * prod_{i != j} f_i.
                        for (var v = 0; v < vectors; v++)
                        {
                            suffix[v] = Vector256<double>.One;
                        }

                        for (var j = depth - 1; j >= 0; j--)
                        {
                            var e = first + j;
                            var row = prefix + (j * vectors);
                            var sum = row[0] * suffix[0];
                            for (var v = 1; v < vectors; v++)
                            {
                                sum += row[v] * suffix[v];
                            }

                            var one = scratch.One[j];
                            p[features[e]] += value * (one - zeros[e]) * Vector256.Sum(sum);
                            if (j > 0)
                            {
                                var z = Vector256.Create(zeros[e]);
                                var slope = Vector256.Create(one - zeros[e]);
                                for (var v = 0; v < vectors; v++)
                                {
                                    suffix[v] *= z + (slope * Vector256.Load(u + (v * Lanes)));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    [ThreadStatic]
    private static ShapScratch? _scratch;

    private static ShapScratch Scratch(ShapLayout layout)
    {
        var scratch = _scratch;
        if (scratch is null || scratch.Directions.Length < layout.MaxInternal || scratch.One.Length < layout.MaxElements
            || scratch.Prefix.Length < (layout.MaxElements + 1) * layout.Rules.Length)
        {
            scratch = _scratch = new ShapScratch(
                Math.Max(layout.MaxInternal, scratch?.Directions.Length ?? 0),
                Math.Max(layout.MaxElements, scratch?.One.Length ?? 0),
                Math.Max((layout.MaxElements + 1) * layout.Rules.Length, scratch?.Prefix.Length ?? 0));
        }

        return scratch;
    }

    /// <summary>Per-thread buffers, pinned so the kernel can hold pointers into them.</summary>
    private sealed class ShapScratch(int internals, int elements, int vectors)
    {
        public byte[] Directions { get; } = GC.AllocateArray<byte>(Math.Max(1, internals), pinned: true);

        public double[] One { get; } = new double[Math.Max(1, elements)];

        public Vector256<double>[] Prefix { get; } = GC.AllocateArray<Vector256<double>>(Math.Max(1, vectors), pinned: true);
    }
}

/// <summary>
/// What TreeSHAP needs of a model, precomputed once: for every leaf (tree t's leaves are
/// <c>[LeafStart[t], LeafStart[t + 1])</c>, in leaf order) its value and the unique features of its path
/// (<c>[ElementStart[leaf], ElementStart[leaf + 1])</c>), each with its zero fraction and the splits that decide its one
/// fraction (<c>[ConditionStart[e], ConditionStart[e + 1])</c>, each <c>node index within the tree * 2 + 1 if the path goes left</c>).
/// </summary>
internal sealed class ShapLayout
{
    public ShapLayout(CompiledForest forest)
    {
        var leafStart = new int[forest.TreeCount + 1];
        var elementStart = new List<int>();
        var features = new List<int>();
        var zeros = new List<double>();
        var conditionStart = new List<int>();
        var conditions = new List<int>();
        var leafValues = new List<double>();
        var maxElements = 0;
        var maxInternal = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            leafStart[t] = leafValues.Count;
            var root = forest.Root[t];
            maxInternal = Math.Max(maxInternal, forest.LeafStart[t] - root);
            if (forest.IsLeaf(t, root))
            {
                // A constant tree explains nothing; it only adds its value to the bias.
                continue;
            }

            // Depth-first over root-to-leaf paths: each path is a list of (node, went left).
            var stack = new Stack<(int Node, (int Node, bool Left)[] Path)>();
            stack.Push((root, []));
            var byLeaf = new SortedDictionary<int, (int Node, bool Left)[]>();
            while (stack.Count > 0)
            {
                var (node, path) = stack.Pop();
                if (forest.IsLeaf(t, node))
                {
                    byLeaf[node] = path;
                    continue;
                }

                stack.Push((forest.Right[node], [.. path, (node, false)]));
                stack.Push((forest.Left[node], [.. path, (node, true)]));
            }

            foreach (var (leaf, path) in byLeaf)
            {
                leafValues.Add(forest.Value[leaf]);
                elementStart.Add(features.Count);

                // Unique features in order of first appearance, as TreeSHAP's unique path holds them; a feature split
                // on again is merged: its zero fractions multiply, its one fraction needs every split satisfied.
                var elements = new List<(int Feature, double Zero, List<int> Conditions)>();
                foreach (var (node, left) in path)
                {
                    var child = left ? forest.Left[node] : forest.Right[node];
                    var cover = forest.Cover[node];
                    var zero = cover > 0 ? forest.Cover[child] / cover : 0.5;
                    var feature = forest.NodeFeature(node);
                    var condition = ((node - root) << 1) | (left ? 1 : 0);
                    var at = elements.FindIndex(e => e.Feature == feature);
                    if (at < 0)
                    {
                        elements.Add((feature, zero, [condition]));
                    }
                    else
                    {
                        elements[at].Conditions.Add(condition);
                        elements[at] = (feature, elements[at].Zero * zero, elements[at].Conditions);
                    }
                }

                foreach (var (feature, zero, list) in elements)
                {
                    features.Add(feature);
                    zeros.Add(zero);
                    conditionStart.Add(conditions.Count);
                    conditions.AddRange(list);
                }

                maxElements = Math.Max(maxElements, elements.Count);
            }
        }

        leafStart[forest.TreeCount] = leafValues.Count;
        elementStart.Add(features.Count);
        conditionStart.Add(conditions.Count);
        LeafStart = leafStart;
        ElementStart = [.. elementStart];
        Feature = [.. features];
        Zero = [.. zeros];
        ConditionStart = [.. conditionStart];
        Condition = [.. conditions];
        LeafValue = [.. leafValues];
        MaxElements = maxElements;
        MaxInternal = maxInternal;
        Rules = [.. Enumerable.Range(1, Math.Max(1, (maxElements + 7) >> 3)).Select(v => GaussLegendre.OnUnitInterval(4 * v))];
    }

    public int[] LeafStart { get; }

    public int[] ElementStart { get; }

    public int[] Feature { get; }

    public double[] Zero { get; }

    public int[] ConditionStart { get; }

    public int[] Condition { get; }

    public double[] LeafValue { get; }

    /// <summary>The most unique features on one path.</summary>
    public int MaxElements { get; }

    /// <summary>The most internal nodes in one tree.</summary>
    public int MaxInternal { get; }

    /// <summary>Quadrature rules of 4, 8, 12, ... points; rule v - 1 serves paths of up to 8 v unique features.</summary>
    public GaussLegendre[] Rules { get; }
}

/// <summary>
/// An n-point Gauss-Legendre rule on [0, 1]: sum_q Weights[q] * p(Points[q]) = integral_0^1 p(u) du for every
/// polynomial p of degree at most 2n - 1. Nodes are the roots of the Legendre polynomial P_n found by Newton's method
/// from Tricomi's initial guesses, weights 2 / ((1 - x^2) P_n'(x)^2) (Abramowitz and Stegun 25.4.29), both mapped from
/// [-1, 1].
/// </summary>
internal sealed class GaussLegendre
{
    private GaussLegendre(double[] points, double[] weights) => (Points, Weights) = (points, weights);

    public double[] Points { get; }

    public double[] Weights { get; }

    public static GaussLegendre OnUnitInterval(int n)
    {
        var points = new double[n];
        var weights = new double[n];
        for (var i = 0; i < (n + 1) / 2; i++)
        {
            var x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative;
            for (var iteration = 0; ; iteration++)
            {
                // P_n(x) by the three-term recurrence (j + 1) P_{j+1} = (2j + 1) x P_j - j P_{j-1}.
                double p0 = 1, p1 = x;
                for (var j = 1; j < n; j++)
                {
                    (p0, p1) = (p1, (((2 * j) + 1) * x * p1 - (j * p0)) / (j + 1));
                }

                derivative = n * ((x * p1) - p0) / ((x * x) - 1);
                var step = p1 / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-16 || iteration == 100)
                {
                    break;
                }
            }

            var weight = 2 / ((1 - (x * x)) * derivative * derivative);
            points[i] = (1 - x) / 2;
            points[n - 1 - i] = (1 + x) / 2;
            weights[i] = weights[n - 1 - i] = weight / 2;
        }

        return new GaussLegendre(points, weights);
    }
}

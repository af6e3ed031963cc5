using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// One internal node of the rank layout (16 bytes), in its tree's breadth-first order: node k of a tree reads its reach
/// from line k of the reach scratch, and writes its children's.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct RankNode
{
    /// <summary>Byte offset of the node's row of 64 ranks in a block's ranks (a categorical node's row of 0/1).</summary>
    public int RankOffset;

    /// <summary>Byte offset in the reach scratch where the left child's reach goes (a spare line when it needs none).</summary>
    public int LeftReach;

    /// <summary>Byte offset where the right child's reach goes (a spare line when it needs none).</summary>
    public int RightReach;

    /// <summary>The threshold's index among the slot's sorted distinct thresholds: go right when rank &gt; it.</summary>
    public byte Bin;

    /// <summary>Leaves in the left subtree: what a document going right adds to its in-order leaf number.</summary>
    public byte LeftLeaves;

    private readonly ushort _padding;
}

/// <summary>
/// The forest for the rank kernel (<see cref="RankKernels"/>): per slot its sorted distinct threshold keys, per tree
/// its internal nodes breadth-first and its leaf values in order (left to right). Built when every numerical slot has at
/// most <see cref="MaxThresholds"/> distinct thresholds and every tree at most <see cref="MaxLeaves"/> leaves, so that
/// ranks and leaf numbers are bytes; <see cref="TryBuild"/> returns null otherwise and the model keeps the other
/// kernels. LightGBM's thresholds are bin boundaries, at most <c>max_bin - 1</c> per feature (255 by default), so
/// models trained with default settings qualify.
/// </summary>
internal sealed unsafe class RankLayout
{
    /// <summary>Most distinct thresholds per slot: ranks 0..255 are bytes.</summary>
    public const int MaxThresholds = 255;

    /// <summary>Most leaves per tree: in-order leaf numbers 0..255 are bytes.</summary>
    public const int MaxLeaves = 256;

    /// <summary>Documents per block: one byte lane each in a 512-bit vector.</summary>
    public const int Lanes = 64;

    private readonly long[] _thresholds;
    private readonly int[] _thresholdStart;
    private readonly long[] _pivots;
    private readonly RankNode[] _nodes;
    private readonly double[] _leafValues;

    private RankLayout(CompiledForest forest, long[] thresholds, int[] thresholdStart, List<RankNode> nodes, int[] nodeStart, List<double> leafValues, int[] leafStart, int[] categoricalNodes, int maxInternal)
    {
        Forest = forest;
        (_thresholds, _thresholdStart) = (thresholds, thresholdStart);

        // Pivot j of a slot is the last threshold of its bucket j (long.MaxValue past the table): 16 per slot.
        _pivots = new long[Math.Max(1, forest.SlotCount) * 16];
        for (var s = 0; s < forest.SlotCount; s++)
        {
            var length = thresholdStart[s + 1] - thresholdStart[s];
            for (var j = 0; j < 16; j++)
            {
                _pivots[(s * 16) + j] = (16 * j) + 15 < length ? thresholds[thresholdStart[s] + (16 * j) + 15] : long.MaxValue;
            }
        }

        _nodes = GC.AllocateArray<RankNode>(Math.Max(1, nodes.Count), pinned: true);
        nodes.CopyTo(_nodes);
        _leafValues = GC.AllocateArray<double>(Math.Max(1, leafValues.Count), pinned: true);
        leafValues.CopyTo(_leafValues);
        NodeStart = nodeStart;
        LeafStart = leafStart;
        CategoricalNodes = categoricalNodes;
        MaxInternal = maxInternal;
    }

    public CompiledForest Forest { get; }

    /// <summary>Tree t's nodes are <c>[NodeStart[t], NodeStart[t + 1])</c>.</summary>
    public int[] NodeStart { get; }

    /// <summary>Tree t's leaf values, left to right, start at <c>LeafStart[t]</c>.</summary>
    public int[] LeafStart { get; }

    /// <summary>Categorical nodes (indices into the forest's per-field arrays); their rows follow the slots' rows.</summary>
    public int[] CategoricalNodes { get; }

    /// <summary>The most internal nodes of a tree: the reach scratch has one line more (the spare line for leaves).</summary>
    public int MaxInternal { get; }

    /// <summary>Bytes of ranks per block: a row of <see cref="Lanes"/> per slot, then one per categorical node.</summary>
    public int RankBytes => (Forest.SlotCount + CategoricalNodes.Length) * Lanes;

    public RankNode* Nodes => (RankNode*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_nodes));

    public double* LeafValues => (double*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_leafValues));

    /// <summary>
    /// Slot s's sorted distinct threshold keys, in buckets of 16, padded with <see cref="long.MaxValue"/> to a whole
    /// number of buckets with at least one pad (m keys take <c>16 * (m / 16 + 1)</c> entries):
    /// <c>Thresholds[ThresholdStart[s] .. ThresholdStart[s + 1])</c>; empty for categorical slots. No threshold key is
    /// <see cref="long.MaxValue"/> (that is NaN's key, and thresholds are never NaN), so a pad is never below a key.
    /// </summary>
    public ReadOnlySpan<long> Thresholds => _thresholds;

    /// <summary>Per slot, 16 pivots: the last entry of each bucket of <see cref="Thresholds"/>, or long.MaxValue.</summary>
    public ReadOnlySpan<long> Pivots => _pivots;

    public ReadOnlySpan<int> ThresholdStart => _thresholdStart;

    /// <summary>The rank layout of <paramref name="forest"/>, or null when a slot or a tree is too large for bytes.</summary>
    public static RankLayout? TryBuild(CompiledForest forest)
    {
        // Per slot, the distinct threshold keys of its numerical nodes, sorted.
        var perSlot = new SortedSet<long>[forest.SlotCount];
        for (var s = 0; s < perSlot.Length; s++)
        {
            perSlot[s] = [];
        }

        var maxInternal = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            if (forest.LeafStart[t] - forest.Root[t] + 1 > MaxLeaves)
            {
                return null;
            }

            maxInternal = Math.Max(maxInternal, forest.LeafStart[t] - forest.Root[t]);
            for (var g = forest.Root[t]; g < forest.LeafStart[t]; g++)
            {
                if (!forest.IsCategorical[g] && perSlot[forest.NodeSlot[g]].Add(forest.ThresholdKey[g]) && perSlot[forest.NodeSlot[g]].Count > MaxThresholds)
                {
                    return null;
                }
            }
        }

        var thresholdStart = new int[forest.SlotCount + 1];
        var thresholds = new List<long>();
        var bins = new Dictionary<long, int>[forest.SlotCount];
        for (var s = 0; s < forest.SlotCount; s++)
        {
            thresholdStart[s] = thresholds.Count;
            bins[s] = [];
            foreach (var key in perSlot[s])
            {
                bins[s][key] = bins[s].Count;
                thresholds.Add(key);
            }

            if (perSlot[s].Count > 0)
            {
                thresholds.AddRange(Enumerable.Repeat(long.MaxValue, (16 * ((perSlot[s].Count / 16) + 1)) - perSlot[s].Count));
            }
        }

        thresholdStart[forest.SlotCount] = thresholds.Count;

        var nodes = new List<RankNode>();
        var nodeStart = new int[forest.TreeCount + 1];
        var leafValues = new List<double>();
        var leafStart = new int[forest.TreeCount + 1];
        var categorical = new List<int>();
        for (var t = 0; t < forest.TreeCount; t++)
        {
            nodeStart[t] = nodes.Count;
            leafStart[t] = leafValues.Count;
            var internalCount = forest.LeafStart[t] - forest.Root[t];
            var spare = internalCount * Lanes;
            if (internalCount == 0)
            {
                leafValues.Add(forest.Value[forest.Root[t]]);
                continue;
            }

            // Breadth-first numbering of internal nodes: node k reads its reach from line k, written by its parent. In
            // pre-order a left child comes right after its parent, and storing a mask and loading it back at once put a
            // store-to-load forwarding on the chain of every left path (3.3 against 1.4 ms for the benchmark's trees);
            // carrying such masks in registers instead cost two blends a node; breadth-first, a child is read a level's
            // width after its parent wrote it.
            var index = new Dictionary<int, int>();
            var order = new List<int>();
            var queue = new Queue<int>();
            queue.Enqueue(forest.Root[t]);
            while (queue.Count > 0)
            {
                var node = queue.Dequeue();
                if (forest.IsLeaf(t, node))
                {
                    continue;
                }

                index[node] = order.Count;
                order.Add(node);
                queue.Enqueue(forest.Left[node]);
                queue.Enqueue(forest.Right[node]);
            }

            int Leaves(int node) => forest.IsLeaf(t, node) ? 1 : Leaves(forest.Left[node]) + Leaves(forest.Right[node]);
            int Reach(int child) => forest.IsLeaf(t, child) ? spare : index[child] * Lanes;

            for (var k = 0; k < order.Count; k++)
            {
                var g = order[k];
                int rankOffset, bin;
                if (forest.IsCategorical[g])
                {
                    // A categorical node's row holds 1 where the document goes right, 0 where it goes left.
                    rankOffset = (forest.SlotCount + categorical.Count) * Lanes;
                    categorical.Add(g);
                    bin = 0;
                }
                else
                {
                    rankOffset = forest.NodeSlot[g] * Lanes;
                    bin = bins[forest.NodeSlot[g]][forest.ThresholdKey[g]];
                }

                nodes.Add(new RankNode
                {
                    RankOffset = rankOffset,
                    LeftReach = Reach(forest.Left[g]),
                    RightReach = Reach(forest.Right[g]),
                    Bin = (byte)bin,
                    LeftLeaves = (byte)Leaves(forest.Left[g]),
                });
            }

            AddLeaves(forest.Root[t]);
            void AddLeaves(int node)
            {
                if (forest.IsLeaf(t, node))
                {
                    leafValues.Add(forest.Value[node]);
                    return;
                }

                AddLeaves(forest.Left[node]);
                AddLeaves(forest.Right[node]);
            }
        }

        nodeStart[forest.TreeCount] = nodes.Count;
        leafStart[forest.TreeCount] = leafValues.Count;
        return new RankLayout(forest, [.. thresholds], thresholdStart, nodes, nodeStart, leafValues, leafStart, [.. categorical], maxInternal);
    }
}

/// <summary>
/// The rank kernel: a block of 64 documents walks every node of a tree at once, one byte per document.
/// <para>
/// Exactness through ranks. A numerical node sends a document right when its slot key exceeds the threshold's key
/// (<see cref="OrderKey"/>). For a slot whose model-wide distinct threshold keys are <c>T_0 &lt; ... &lt; T_(m-1)</c>,
/// let a document's rank be <c>r = #{i : T_i &lt; x}</c>. Then <c>x &gt; T_j</c> exactly when <c>r &gt; j</c>: if
/// <c>x &gt; T_j</c>, all of <c>T_0..T_j</c> are below x, so <c>r &gt;= j + 1</c>; if <c>x &lt;= T_j</c>, only
/// thresholds of index below j can be below x, so <c>r &lt;= j</c>. Missing values, zeros and NaN are settled by the slot
/// transform before the key is made (<see cref="SlotKind"/>), so the rank inherits LightGBM's decision for them. This
/// is the binning of LightGBM's own training (and of QuickScorer-era "feature quantisation") applied at prediction time,
/// per model: the bins are the model's thresholds, so nothing is approximated. Categorical nodes get a row of 0/1 per
/// block (1: not in the node's set, go right) and are then tested as "row &gt; 0" by the same loop.
/// </para>
/// <para>
/// The walk. Every internal node, breadth-first, takes the 64-byte mask of the documents that reach it, compares the
/// 64 ranks of its slot with its bin (one <c>vpcmpub</c>), splits the mask into its children's, and adds its left
/// subtree's leaf count to the in-order leaf number of the documents that go right: a document's leaf number is the sum,
/// over the nodes on its path where it goes right, of the leaves it passes by on the left. No branch depends on the
/// data, and one compare serves 64 documents where the bitvector kernel's serves 8 (64-bit keys, 64-bit leaf words).
/// The leaf numbers then index the tree's leaf values (gathers), added to each document's sum in model order, which is
/// what keeps the sums equal to lib_lightgbm's to the bit.
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class RankKernels
{
    /// <summary>Whether this machine runs the kernel natively (AVX-512 with byte compares and vector gathers).</summary>
    public static bool IsSupported { get; } = Vector512.IsHardwareAccelerated && Avx512BW.IsSupported && Avx2.IsSupported;

    /// <summary>
    /// The fewest documents a call must have for the rank kernel: a block costs the same for 1 document as for 64,
    /// while the bitvector kernel works in groups of 16, at about 0.4 of a rank block's cost each on the benchmark's
    /// model (docs/performance.md); smaller calls (a single prediction) go to it.
    /// </summary>
    public const int MinDocuments = 40;

    /// <summary>
    /// Writes the ranks of <paramref name="count"/> documents whose slot keys are <paramref name="keys"/> (a block, by
    /// groups of <see cref="CompiledForest.KeyGroup"/>) into <paramref name="ranks"/>: row s holds slot s's rank per
    /// document; then each categorical node's row of 0/1.
    /// </summary>
    public static void Ranks(RankLayout layout, long* keys, int count, byte* ranks)
    {
        var forest = layout.Forest;
        var slots = forest.SlotCount;
        fixed (long* all = layout.Thresholds)
        fixed (long* pivots = layout.Pivots)
        {
            var starts = layout.ThresholdStart;
            for (var s = 0; s < slots; s++)
            {
                var length = starts[s + 1] - starts[s];
                if (length == 0)
                {
                    continue;
                }

                // All 64 lanes: past the block's documents the keys are stale, but the search never leaves the
                // slot's table, and those ranks are never read.
                var table = all + starts[s];
                var row = ranks + (s * RankLayout.Lanes);
                var x = keys + ((nint)s * CompiledForest.KeyGroup);
                var groupStride = (nint)slots * CompiledForest.KeyGroup;
                if (length == 16)
                {
                    // At most 15 thresholds: the search runs in registers.
                    var lo = Vector512.Load(table);
                    var hi = Vector512.Load(table + 8);
                    for (var g = 0; g < RankLayout.Lanes / CompiledForest.KeyGroup; g++, x += groupStride)
                    {
                        Store(Within(lo, hi, Vector512.Load(x)), row + (g * 16));
                        Store(Within(lo, hi, Vector512.Load(x + 8)), row + (g * 16) + 8);
                    }
                }
                else
                {
                    var lo = Vector512.Load(pivots + (s * 16));
                    var hi = Vector512.Load(pivots + (s * 16) + 8);
                    for (var g = 0; g < RankLayout.Lanes / CompiledForest.KeyGroup; g += 2, x += 2 * groupStride)
                    {
                        Search32(table, lo, hi, x, x + groupStride, row + (g * 16));
                    }
                }
            }
        }

        var categorical = layout.CategoricalNodes;
        for (var c = 0; c < categorical.Length; c++)
        {
            var node = categorical[c];
            var row = ranks + ((slots + c) * RankLayout.Lanes);
            var slot = forest.NodeSlot[node];
            for (var d = 0; d < count; d++)
            {
                var key = keys[forest.KeyIndex(slot, d)];
                row[d] = ForestKernels.InCategorySet(forest, node, ForestKernels.ValueOf(key)) ? (byte)0 : (byte)1;
            }
        }
    }

    /// <summary>
    /// The number of the 16 sorted values in <paramref name="lo"/>:<paramref name="hi"/> below each of 8 keys, when the
    /// last value is never below a key (a pad or a pivot past the table): a branch-free lower bound by permutes
    /// (<c>vpermi2q</c>), 0 to 15.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> Within(Vector512<long> lo, Vector512<long> hi, Vector512<long> key)
    {
        var c = Vector512<long>.Zero;
        c += Vector512.GreaterThan(key, Avx512F.PermuteVar8x64x2(lo, c + Vector512.Create(7L), hi)) & Vector512.Create(8L);
        c += Vector512.GreaterThan(key, Avx512F.PermuteVar8x64x2(lo, c + Vector512.Create(3L), hi)) & Vector512.Create(4L);
        c += Vector512.GreaterThan(key, Avx512F.PermuteVar8x64x2(lo, c + Vector512.Create(1L), hi)) & Vector512.Create(2L);
        c -= Vector512.GreaterThan(key, Avx512F.PermuteVar8x64x2(lo, c, hi));
        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<long> ranks, byte* target) =>
        *(ulong*)target = Avx512F.ConvertToVector128Byte(ranks).AsUInt64().ToScalar();

    /// <summary>
    /// 32 ranks at once (16 keys at <paramref name="x0"/>, 16 at <paramref name="x1"/>) into 32 bytes at
    /// <paramref name="target"/>, in two levels: the bucket b (0 to 15) by permutes among the 16 pivots, then the place
    /// c within bucket b's 16 thresholds (0 to 15: its last is the pivot, which is not below the key) by four rounds of
    /// gathers; the rank is 16b + c. The lanes' gathers are independent, so they overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Search32(long* table, Vector512<long> lo, Vector512<long> hi, long* x0, long* x1, byte* target)
    {
        var k0 = Vector512.Load(x0);
        var k1 = Vector512.Load(x0 + 8);
        var k2 = Vector512.Load(x1);
        var k3 = Vector512.Load(x1 + 8);
        var p0 = Within(lo, hi, k0) << 4;
        var p1 = Within(lo, hi, k1) << 4;
        var p2 = Within(lo, hi, k2) << 4;
        var p3 = Within(lo, hi, k3) << 4;
        for (var half = 8L; half > 0; half >>= 1)
        {
            var probe = table + half - 1;
            var step = Vector512.Create(half);
            p0 += Vector512.GreaterThan(k0, Gather(probe, p0)) & step;
            p1 += Vector512.GreaterThan(k1, Gather(probe, p1)) & step;
            p2 += Vector512.GreaterThan(k2, Gather(probe, p2)) & step;
            p3 += Vector512.GreaterThan(k3, Gather(probe, p3)) & step;
        }

        Store(p0, target);
        Store(p1, target + 8);
        Store(p2, target + 16);
        Store(p3, target + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<long> Gather(long* table, Vector512<long> index) =>
        Vector512.Create(Avx2.GatherVector256(table, index.GetLower(), 8), Avx2.GatherVector256(table, index.GetUpper(), 8));

    /// <summary>
    /// Adds trees [<paramref name="treeFrom"/>, <paramref name="treeTo"/>) to the accumulators
    /// (<see cref="CompiledForest.BlockSize"/> per class, class-major) of a block whose ranks are
    /// <paramref name="ranks"/>. All 64 lanes are computed; those past the block's documents are never read.
    /// <paramref name="reach"/> is scratch of <c>(MaxInternal + 1) * 64</c> bytes.
    /// </summary>
    public static void AddTrees(RankLayout layout, int treeFrom, int treeTo, byte* ranks, double* accumulators, byte* reach)
    {
        var nodes = layout.Nodes;
        var values = layout.LeafValues;
        var nodeStart = layout.NodeStart;
        var leafStart = layout.LeafStart;
        var classes = layout.Forest.TreeClass;
        for (var t = treeFrom; t < treeTo; t++)
        {
            var node = nodes + nodeStart[t];
            var end = nodes + nodeStart[t + 1];
            var ids = Vector512<byte>.Zero;
            Vector512<byte>.AllBitsSet.Store(reach);
            for (var own = reach; node < end; node++, own += RankLayout.Lanes)
            {
                var here = Vector512.Load(own);
                var right = Vector512.GreaterThan(Vector512.Load(ranks + node->RankOffset), Vector512.Create(node->Bin));
                var goRight = here & right;
                Vector512.AndNot(here, right).Store(reach + node->LeftReach);
                goRight.Store(reach + node->RightReach);
                ids += goRight & Vector512.Create(node->LeftLeaves);
            }

            Accumulate(values + leafStart[t], ids, accumulators + (classes[t] * CompiledForest.BlockSize));
        }
    }

    /// <summary>Adds the leaf values the 64 leaf numbers name to the 64 sums (four-lane gathers, in document order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(double* values, Vector512<byte> ids, double* a)
    {
        var lower = ids.GetLower();
        var upper = ids.GetUpper();
        Quarter(values, lower.GetLower(), a);
        Quarter(values, lower.GetUpper(), a + 16);
        Quarter(values, upper.GetLower(), a + 32);
        Quarter(values, upper.GetUpper(), a + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quarter(double* values, Vector128<byte> ids, double* a)
    {
        var wide = Avx512F.ConvertToVector512Int32(ids);
        var i0 = wide.GetLower();
        var i1 = wide.GetUpper();
        (Vector256.Load(a) + Avx2.GatherVector256(values, i0.GetLower(), 8)).Store(a);
        (Vector256.Load(a + 4) + Avx2.GatherVector256(values, i0.GetUpper(), 8)).Store(a + 4);
        (Vector256.Load(a + 8) + Avx2.GatherVector256(values, i1.GetLower(), 8)).Store(a + 8);
        (Vector256.Load(a + 12) + Avx2.GatherVector256(values, i1.GetUpper(), 8)).Store(a + 12);
    }
}

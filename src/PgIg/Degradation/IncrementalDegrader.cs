using PgIg.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PgIg.Degradation;

/// <summary>
/// The degradation curves of <see cref="Degrader.Curves"/>, computed incrementally. Step s differs from step
/// s−1 in one P×P input patch, so each image keeps the activations of its previous step and every spatial
/// layer recomputes only the box that patch can reach (a k×k conv grows it by the kernel reach, a strided
/// conv or a pool maps it onto its grid). The layers from the point where these boxes cover most of the map (and always
/// from the first Flatten or dense layer on) form the tail: their inputs are collected over steps and run
/// in full, many steps per batch, which keeps the large dense layers efficient.
/// </summary>
public static class IncrementalDegrader
{
    /// <summary>Same arguments and result as <see cref="Degrader.Curves"/>: B×NPatches p_c per step (step 0 is the clean image).</summary>
    public static Tensor Curves(SequentialNet net, Tensor x, Tensor classes, Tensor order, DegradeOptions o, long memoryBudgetBytes) =>
        Curves(net, x, classes, order, o, memoryBudgetBytes, new IncrementalTuning());

    /// <param name="tuning">Speed knobs; the curves agree to rounding whatever their values.</param>
    public static Tensor Curves(SequentialNet net, Tensor x, Tensor classes, Tensor order, DegradeOptions o, long memoryBudgetBytes, IncrementalTuning tuning)
    {
        ArgumentNullException.ThrowIfNull(tuning);
        // insertion changes every patch but the restored ones at step 0, so there is no clean-image forward to update
        // incrementally; the full engine gives the same curves
        if (o.Insertion) return Degrader.Curves(net, x, classes, order, o, memoryBudgetBytes);
        if (x.dim() != 4) throw new ArgumentException($"expected a B×C×H×W input, got {x.dim()} dimensions", nameof(x));
        long b = x.shape[0], h = x.shape[2], w = x.shape[3];
        int p = o.PatchSize;
        if (h % p != 0 || w % p != 0)
            throw new InvalidOperationException($"patch_size {p} does not tile the {h}×{w} input; choose a divisor of both");
        long gw = w / p, patches = (h / p) * gw;
        long maxSteps = o.SkipTopPatch ? patches : patches + 1;
        if (o.NPatches > maxSteps)
            throw new InvalidOperationException($"n_patches {o.NPatches} exceeds the {patches} patches of a {h}×{w} image at patch_size {p} (at most {maxSteps} steps)");

        if (b == 0 || o.NPatches <= 0) return torch.zeros(b, Math.Max(0, o.NPatches), device: x.device);

        using var _ = torch.no_grad();
        using var outer = torch.NewDisposeScope();
        var plan = Plan.Build(net, x.shape[1..], p, tuning.FullMapFraction);
        var curves = new float[b * o.NPatches];
        var orderCpu = order.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();

        long elementBytes = x.ElementSize;
        long perImage = plan.PerImageBytes(elementBytes)
            + (o.RoadNoise is null ? 0 : RoadBatch.BytesPerImage(x.shape[1], h, w));
        long tailRowBytes = plan.TailRowBytes(elementBytes);
        long imagesPerChunk = Math.Clamp(memoryBudgetBytes / Math.Max(1, perImage + tailRowBytes), 1, b);
        long stepsPerFlush = Math.Clamp((memoryBudgetBytes - imagesPerChunk * perImage) / Math.Max(1, imagesPerChunk * tailRowBytes), 1, o.NPatches);

        for (long i0 = 0; i0 < b; i0 += imagesPerChunk)
        {
            using var scope = torch.NewDisposeScope();
            long i1 = Math.Min(b, i0 + imagesPerChunk);
            var chunk = new Chunk(plan, x[TensorIndex.Slice(i0, i1)], classes[TensorIndex.Slice(i0, i1)], o, stepsPerFlush, tuning,
                (k, step, pc) => curves[(i0 + k) * o.NPatches + step] = pc);
            // ROAD: removing a patch imputes again the whole removed region it joins, so the changed box is that region's
            var road = o.RoadNoise is null ? null : new RoadBatch(x[TensorIndex.Slice(i0, i1)], o.RoadNoise[TensorIndex.Slice(i0, i1)], p);
            for (long s = 0; s < o.NPatches; s++)
            {
                if (s > 0)
                {
                    // step s differs from step s − 1 by one patch: rank s under B1, rank s − 1 otherwise
                    long rank = o.RankRemovedAt(s);
                    if (road is null) chunk.DegradePatch(k => orderCpu[(i0 + k) * patches + rank]);
                    else chunk.Replace(road.RemovePatch(k => orderCpu[(i0 + k) * patches + rank]), road);
                }
                chunk.EndStep(s);
            }
            chunk.Flush();
        }
        return torch.tensor(curves, new[] { b, (long)o.NPatches }).to(x.device).MoveToOuterDisposeScope();
    }

    /// <summary>Window work (multiply-adds) below which a stage runs on one thread whatever the tuning: a
    /// second thread would save well under a millisecond there even on an idle machine.</summary>
    const long SerialWorkLimit = 1L << 26;

    /// <summary>Lowers libtorch's intra-op threads until disposed. The setting is process-wide: torch work on
    /// other threads meanwhile runs with fewer threads too.</summary>
    sealed class Threads : IDisposable
    {
        readonly int _before;
        Threads(int before, int during) { _before = before; torch.set_num_threads(during); }

        /// <summary>At most <paramref name="limit"/> threads (0: no limit), one for work under <see cref="SerialWorkLimit"/>.</summary>
        public static Threads? AtMost(int limit, long work)
        {
            int before = torch.get_num_threads();
            int during = work < SerialWorkLimit ? 1 : limit <= 0 ? before : Math.Min(limit, before);
            return during < before ? new Threads(before, during) : null;
        }

        public void Dispose() => torch.set_num_threads(_before);
    }

    /// <summary>Rows [R0, R1) × columns [C0, C1) of a map; empty when either range is.</summary>
    readonly record struct Box(long R0, long R1, long C0, long C1)
    {
        public bool IsEmpty => R0 >= R1 || C0 >= C1;
        public long Height => R1 - R0;
        public long Width => C1 - C0;
    }

    /// <summary>
    /// One spatial layer (a conv, a max- or average pool, or none for pointwise layers at the very start) plus
    /// the pointwise layers after it (ReLU, identity), applied together to a window. The stage's input is
    /// stored with a zero border of the stage's padding, so a window with its halo is a plain slice and the
    /// spatial op runs without padding, at map borders too.
    /// </summary>
    sealed class Stage
    {
        public required Layer? Spatial { get; init; }
        public required List<Layer> Pointwise { get; init; }
        public required long[] InShape { get; init; }   // C, H, W without border
        public required long[] OutShape { get; init; }
        public long KernelH { get; init; } = 1;
        public long KernelW { get; init; } = 1;
        public long Stride { get; init; } = 1;
        public long Pad { get; init; }
        /// <summary>Multiply-adds (conv) or comparisons per output element.</summary>
        public long WorkPerOutput => Spatial is Conv2dLayer ? InShape[0] * KernelH * KernelW : KernelH * KernelW;

        /// <summary>Output rows that read any input row in [lo, hi): o·s − p ≤ hi − 1 and o·s − p + k − 1 ≥ lo.</summary>
        static (long, long) Reach(long lo, long hi, long k, long stride, long pad, long size)
        {
            if (lo >= hi) return (0, 0);
            long first = CeilDiv(lo + pad - k + 1, stride), last = FloorDiv(hi - 1 + pad, stride);
            return (Math.Max(0, first), Math.Min(size, last + 1));
        }

        public Box OutBox(Box input)
        {
            if (input.IsEmpty) return input;
            var (r0, r1) = Reach(input.R0, input.R1, KernelH, Stride, Pad, OutShape[1]);
            var (c0, c1) = Reach(input.C0, input.C1, KernelW, Stride, Pad, OutShape[2]);
            return new Box(r0, r1, c0, c1);
        }

        /// <summary>Input rows (in bordered coordinates) that output rows [o, o + n) read.</summary>
        public long InStart(long o) => o * Stride;
        public long InLength(long n, long k) => (n - 1) * Stride + k;

        /// <summary>
        /// libtorch sends a single small input (one example, at most this many elements, kernel ≤ 3×3) to its own
        /// im2col convolution instead of oneDNN. That rounds differently from the full engine, whose stacked steps
        /// always run on oneDNN, so such windows are run as a batch of two.
        /// </summary>
        const long OneDnnMinimumElements = 20480;

        /// <summary>The stage on a bordered input window (N×C×h×w): no padding needed.</summary>
        public Tensor Run(Tensor window)
        {
            Tensor y = Spatial switch
            {
                Conv2dLayer c when window.shape[0] == 1 && window.numel() <= OneDnnMinimumElements =>
                    F.conv2d(window.expand(2, -1, -1, -1), c.Weight, c.Bias, strides: new[] { c.Stride, c.Stride }).narrow(0, 0, 1),
                Conv2dLayer c => F.conv2d(window, c.Weight, c.Bias, strides: new[] { c.Stride, c.Stride }),
                Pool2dLayer m => SequentialNet.Apply(m, window),
                null => window.clone(),   // pointwise layers below work in place
                _ => throw new NotSupportedException(Spatial.Kind),
            };
            foreach (var l in Pointwise)
                if (l is ReluLayer) y.relu_();
            return y;
        }

        static long FloorDiv(long a, long d) => a >= 0 ? a / d : -((-a + d - 1) / d);
        static long CeilDiv(long a, long d) => -FloorDiv(-a, d);
    }

    /// <summary>The network cut into incremental stages and a tail that runs in full over many steps.</summary>
    sealed class Plan
    {
        public required List<Stage> Stages { get; init; }     // incremental stages
        public required List<Layer> Tail { get; init; }
        public required long[] TailInShape { get; init; }
        public required long TailLargest { get; init; }       // elements of the largest tail activation, per row
        /// <summary>Border of each stored map: map i is stage i's input (its padding), the last one the tail's input (none).</summary>
        public required long[] Borders { get; init; }
        public required long[][] MapShapes { get; init; }

        public long StoredElements() => MapShapes.Select((s, i) => s[0] * (s[1] + 2 * Borders[i]) * (s[2] + 2 * Borders[i])).Sum();

        /// <summary>Stored maps plus working space for one stage's input window copy and output (at most a whole map each).</summary>
        public long PerImageBytes(long elementBytes)
        {
            long largest = MapShapes.Select(s => s[0] * s[1] * s[2]).Max();
            return (StoredElements() + 3 * largest) * elementBytes;
        }

        /// <summary>One (step, image) row of the tail: its collected input plus the tail's working activations.</summary>
        public long TailRowBytes(long elementBytes) =>
            (TailInShape.Aggregate(1L, (a, c) => a * c) + 3 * TailLargest) * elementBytes;

        public static Plan Build(SequentialNet net, long[] inputShape, int patchSize, double fullMapFraction)
        {
            var stages = new List<Stage>();
            var shape = inputShape.ToArray();
            int i = 0;
            var layers = net.Layers;
            // spatial part: everything before the first Flatten or dense layer
            while (i < layers.Count && layers[i] is not (FlattenLayer or LinearLayer))
            {
                Layer? spatial = null;
                long kh = 1, kw = 1, stride = 1, pad = 0;
                long[] outShape = shape;
                switch (layers[i])
                {
                    case Conv2dLayer c:
                        spatial = c; kh = c.Weight.shape[2]; kw = c.Weight.shape[3]; pad = c.Padding; stride = c.Stride;
                        outShape = [c.OutFeatures, c.OutputSize(shape[1]), c.OutputSize(shape[2])];
                        i++;
                        break;
                    case Pool2dLayer m:
                        spatial = m; kh = kw = m.KernelSize; stride = m.Stride;
                        outShape = [shape[0], (shape[1] - kh) / stride + 1, (shape[2] - kw) / stride + 1];
                        i++;
                        break;
                }
                var pointwise = new List<Layer>();
                while (i < layers.Count && layers[i] is ReluLayer or IdentityLayer) pointwise.Add(layers[i++]);
                if (spatial is null && pointwise.Count == 0) throw new NotSupportedException($"layer kind {layers[i].Kind}");
                stages.Add(new Stage { Spatial = spatial, Pointwise = pointwise, InShape = shape, OutShape = outShape, KernelH = kh, KernelW = kw, Stride = stride, Pad = pad });
                shape = outShape;
            }

            // trailing stages whose windows cover most of their map on average join the tail
            var coverage = MeanCoverage(stages, inputShape, patchSize);
            int firstTail = stages.Count;
            while (firstTail > 0 && coverage[firstTail - 1] > fullMapFraction) firstTail--;
            var tailStages = stages.Skip(firstTail).ToList();
            stages.RemoveRange(firstTail, stages.Count - firstTail);
            var tail = tailStages.SelectMany(st => (st.Spatial is null ? [] : new[] { st.Spatial }).Concat(st.Pointwise)).Concat(layers.Skip(i)).ToList();
            long[] tailIn = stages.Count > 0 ? stages[^1].OutShape : inputShape.ToArray();

            long largest = 0;
            using (torch.NewDisposeScope())
            {
                // the tail's activation sizes, from a forward of one zero row
                var dtype = net.WeightedLayers.Count > 0 ? net.WeightedLayers[0].Weight.dtype : ScalarType.Float32;
                var device = net.WeightedLayers.Count > 0 ? net.WeightedLayers[0].Weight.device : torch.CPU;
                Tensor t = torch.zeros(new long[] { 1 }.Concat(tailIn).ToArray(), dtype: dtype, device: device);
                foreach (var l in tail) { t = SequentialNet.Apply(l, t); largest = Math.Max(largest, t.numel()); }
            }

            var mapShapes = new List<long[]> { inputShape.ToArray() };
            mapShapes.AddRange(stages.Select(st => st.OutShape));
            var borders = stages.Select(st => st.Pad).Append(0).ToArray();
            return new Plan { Stages = stages, Tail = tail, TailInShape = tailIn, TailLargest = largest, Borders = borders, MapShapes = mapShapes.ToArray() };
        }

        /// <summary>Per stage, the mean over patch positions of the share of its output map that one patch reaches.</summary>
        static double[] MeanCoverage(List<Stage> stages, long[] inputShape, int patchSize)
        {
            var sum = new double[stages.Count];
            long gh = inputShape[1] / patchSize, gw = inputShape[2] / patchSize;
            for (long q = 0; q < gh * gw; q++)
            {
                long r = q / gw * patchSize, c = q % gw * patchSize;
                var box = new Box(r, r + patchSize, c, c + patchSize);
                for (int k = 0; k < stages.Count; k++)
                {
                    box = stages[k].OutBox(box);
                    if (!box.IsEmpty) sum[k] += (double)box.Height * box.Width / (stages[k].OutShape[1] * stages[k].OutShape[2]);
                }
            }
            return sum.Select(v => v / (gh * gw)).ToArray();
        }
    }

    /// <summary>The stored activations of a chunk of images and the tail inputs collected since the last flush.</summary>
    sealed class Chunk
    {
        readonly Plan _plan;
        readonly DegradeOptions _o;
        readonly IncrementalTuning _tuning;
        readonly long _n, _stepsPerFlush;
        readonly Tensor[] _maps;          // map i: N×C×(H+2·border)×(W+2·border)
        readonly Tensor _means;           // N×C×G×G clean patch means, exactly as Degrader computes them
        readonly bool[] _positive;        // means > 0, N×C×G×G, on the CPU
        readonly Tensor _classes;
        readonly Tensor _tailBuffer;      // (stepsPerFlush·N)×tail input, step-major
        readonly Action<long, long, float> _record;   // (image in chunk, step, p_c)
        readonly long _gw, _channels;
        long _filled, _firstStep;

        public Chunk(Plan plan, Tensor x, Tensor classes, DegradeOptions o, long stepsPerFlush, IncrementalTuning tuning, Action<long, long, float> record)
        {
            _plan = plan; _record = record; _o = o; _stepsPerFlush = stepsPerFlush; _tuning = tuning;
            _n = x.shape[0]; _channels = x.shape[1];
            _gw = x.shape[3] / o.PatchSize;
            _classes = classes;
            _means = F.avg_pool2d(x, o.PatchSize, o.PatchSize);
            _positive = _means.gt(0).cpu().data<bool>().ToArray();
            _maps = new Tensor[plan.MapShapes.Length];
            for (int i = 0; i < _maps.Length; i++)
            {
                long bd = plan.Borders[i];
                var s = plan.MapShapes[i];
                _maps[i] = bd == 0
                    ? torch.empty(new[] { _n, s[0], s[1], s[2] }, dtype: x.dtype, device: x.device)
                    : torch.zeros(new[] { _n, s[0], s[1] + 2 * bd, s[2] + 2 * bd }, dtype: x.dtype, device: x.device);
            }
            Interior(0).copy_(x);
            for (int i = 0; i < plan.Stages.Count; i++)
            {
                using var stepScope = torch.NewDisposeScope();
                Interior(i + 1).copy_(plan.Stages[i].Run(_maps[i]));
            }
            _tailBuffer = torch.empty(new[] { stepsPerFlush * _n }.Concat(plan.TailInShape).ToArray(), dtype: x.dtype, device: x.device);
        }

        Tensor Interior(int map)
        {
            long bd = _plan.Borders[map];
            var s = _plan.MapShapes[map];
            return bd == 0 ? _maps[map] : _maps[map].narrow(2, bd, s[1]).narrow(3, bd, s[2]);
        }

        /// <summary>Replaces each image's patch <paramref name="patchOf"/>(image) by its clean per-channel mean
        /// (under B2 only channels whose mean is &gt; 0, as Degrader) and updates every stored map.</summary>
        public void DegradePatch(Func<long, long> patchOf)
        {
            var dirty = new Box[_n];
            int p = _o.PatchSize;
            long bd = _plan.Borders[0];
            long g = _means.shape[2] * _means.shape[3];
            using (torch.NewDisposeScope())
            using (Threads.AtMost(1, 0))
            for (long k = 0; k < _n; k++)
            {
                long q = patchOf(k), gr = q / _gw, gc = q % _gw;
                bool any = !_o.PositiveOnlyReplacement;
                for (long ch = 0; ch < _channels && !any; ch++) any = _positive[(k * _channels + ch) * g + q];
                if (!any) continue;   // nothing replaced: an empty box
                long r = gr * p, c = gc * p;
                dirty[k] = new Box(r, r + p, c, c + p);
                var mean = _means.narrow(0, k, 1).narrow(2, gr, 1).narrow(3, gc, 1);          // 1×C×1×1
                var target = _maps[0].narrow(0, k, 1).narrow(2, bd + r, p).narrow(3, bd + c, p);
                target.copy_(_o.PositiveOnlyReplacement ? torch.where(mean.gt(0), mean, target) : mean.expand_as(target));
            }
            PropagateAll(dirty);
        }

        /// <summary>Copies each image's changed box (ROAD) from <paramref name="road"/> into the input and updates every stored map.</summary>
        public void Replace(PixelBox[] changed, RoadBatch road)
        {
            var dirty = new Box[_n];
            long bd = _plan.Borders[0];
            using (torch.NewDisposeScope())
                for (int k = 0; k < _n; k++)
                {
                    var b = changed[k];
                    if (b.IsEmpty) continue;
                    dirty[k] = new Box(b.R0, b.R1, b.C0, b.C1);
                    _maps[0].narrow(0, k, 1).narrow(2, bd + b.R0, b.R1 - b.R0).narrow(3, bd + b.C0, b.C1 - b.C0)
                        .copy_(road.Window(k, b).to(_maps[0].dtype).to(_maps[0].device));
                }
            PropagateAll(dirty);
        }

        /// <summary>Recomputes every stage where its input changed, from the input's changed boxes up.</summary>
        void PropagateAll(Box[] inputBoxes)
        {
            var boxes = inputBoxes;
            for (int i = 0; i < _plan.Stages.Count; i++)
                boxes = Propagate(i, boxes);
        }

        /// <summary>Recomputes stage <paramref name="i"/> where its input changed; returns the changed output boxes.</summary>
        Box[] Propagate(int i, Box[] inBoxes)
        {
            var stage = _plan.Stages[i];
            var outBoxes = inBoxes.Select(stage.OutBox).ToArray();
            var active = Enumerable.Range(0, (int)_n).Where(k => !outBoxes[k].IsEmpty).ToArray();
            if (active.Length == 0) return outBoxes;
            long outH = stage.OutShape[1], outW = stage.OutShape[2];
            long h = active.Max(k => outBoxes[k].Height), w = active.Max(k => outBoxes[k].Width);
            var input = _maps[i];
            long bdOut = _plan.Borders[i + 1];
            bool full = h * w > _tuning.FullMapFraction * outH * outW;
            using var scope = torch.NewDisposeScope();
            using var threads = Threads.AtMost(_tuning.WindowThreads, active.Length * stage.OutShape[0] * (full ? outH * outW : h * w) * stage.WorkPerOutput);

            if (full)
            {
                // most of the map changes: compute it whole for the images that changed
                if (active.Length == _n)
                {
                    Interior(i + 1).copy_(stage.Run(input));
                    return outBoxes;
                }
                var index = torch.tensor(active.Select(k => (long)k).ToArray(), device: input.device);
                Interior(i + 1).index_copy_(0, index, stage.Run(input.index_select(0, index)));
                return outBoxes;
            }

            // equal-size windows, each shifted inside the map so that it covers its image's box
            var starts = active.Select(k => (R: Math.Min(outBoxes[k].R0, outH - h), C: Math.Min(outBoxes[k].C0, outW - w))).ToArray();
            long inH = stage.InLength(h, stage.KernelH), inW = stage.InLength(w, stage.KernelW);
            var windows = new Tensor[active.Length];
            for (int j = 0; j < active.Length; j++)
                windows[j] = input.narrow(0, active[j], 1).narrow(2, stage.InStart(starts[j].R), inH).narrow(3, stage.InStart(starts[j].C), inW);
            // one contiguous N×C×h×w block: a strided view would send the conv down a slower path
            var result = stage.Run(windows.Length == 1 ? windows[0].contiguous() : torch.cat(windows, 0));
            for (int j = 0; j < active.Length; j++)
                _maps[i + 1].narrow(0, active[j], 1).narrow(2, bdOut + starts[j].R, h).narrow(3, bdOut + starts[j].C, w)
                    .copy_(result.narrow(0, j, 1));
            return outBoxes;
        }

        /// <summary>Collects step <paramref name="step"/>'s tail inputs; runs the tail when the buffer is full.</summary>
        public void EndStep(long step)
        {
            if (_filled == 0) _firstStep = step;
            using (torch.NewDisposeScope())
                _tailBuffer.narrow(0, _filled * _n, _n).copy_(_maps[^1]);
            _filled++;
            if (_filled == _stepsPerFlush) Flush();
        }

        /// <summary>Runs the tail on the collected steps and records p_c per (image, step).</summary>
        public void Flush()
        {
            if (_filled == 0) return;
            using var scope = torch.NewDisposeScope();
            var rows = _tailBuffer.narrow(0, 0, _filled * _n);
            Tensor h = rows;
            foreach (var layer in _plan.Tail)
            {
                var next = SequentialNet.Apply(layer, h);
                // free each activation once used (the scope alone would keep them all until the flush ends)
                if (!ReferenceEquals(h, rows) && !ReferenceEquals(h, next)) h.Dispose();
                h = next;
            }
            var pc = h.softmax(-1).gather(1, _classes.repeat(_filled).unsqueeze(1)).to(ScalarType.Float32).cpu().data<float>().ToArray();
            for (long s = 0; s < _filled; s++)
                for (long k = 0; k < _n; k++)
                    _record(k, _firstStep + s, pc[s * _n + k]);
            _filled = 0;
        }
    }
}

/// <summary>Speed knobs of <see cref="IncrementalDegrader"/>; the curves agree to rounding whatever their values.</summary>
/// <param name="FullMapFraction">A layer whose window covers more than this share of its map computes the whole
/// map instead. At batch 8 a window costs about its share of the full map's time (VGG16's 14×14 convs: an 11×11
/// window took ~70 % of the full map), so only nearly full windows are worth replacing.</param>
/// <param name="WindowThreads">Intra-op threads for the per-step window work (the first forward and the batched
/// tail always use libtorch's setting); 0: libtorch's setting. Windows are small, and on a busy machine every
/// multi-threaded op waits until all its threads get a core: on the shared 2-core VM of docs/BENCHMARKS.md one
/// thread made VGG16 at batch 8 about twice as fast as two (1.40 vs 3.00 s per image). On an idle many-core
/// machine raise it.</param>
public sealed record IncrementalTuning(double FullMapFraction = 0.85, int WindowThreads = 1);

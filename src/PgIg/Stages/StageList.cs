namespace PgIg.Stages;

/// <summary>The pipeline's stages in dependency order. Adding a stage adds its file and one line here.</summary>
public static class StageList
{
    public static IReadOnlyList<Stage> Create() =>
    [
        new FetchStage(),
        new DataStage(),
        new TrainStage(),
        new PatternsStage(),
        new PreprocessStage(),
        new PredictStage(),
        new AttributeStage(),
        new DegradeStage(),
        new SanityStage(),
        new PlotsStage(),
    ];
}

"""A small hand-written corpus: 4 topics x 15 short texts (10 to train, 5 held out)."""

from __future__ import annotations

TOPICS: dict[str, list[str]] = {
    "sport": [
        "The striker scored twice and the team won the football match.",
        "Our goalkeeper saved a penalty in the final minute of the game.",
        "The tennis player served an ace to win the first set.",
        "The coach praised the defence after the league victory.",
        "Fans cheered as the runner crossed the finish line first.",
        "The basketball team lost the game after overtime.",
        "She won the gold medal in the swimming final.",
        "The referee showed a red card to the midfielder.",
        "The cyclist took the lead on the mountain stage of the race.",
        "Training before the season keeps the players fit.",
        "The team celebrated the championship with their fans.",
        "A late goal decided the football match in the stadium.",
        "The runner broke the record in the marathon race.",
        "The coach picked a new goalkeeper for the league game.",
        "The players trained hard before the final match.",
    ],
    "finance": [
        "The stock market fell sharply as investors sold shares.",
        "The central bank raised interest rates to curb inflation.",
        "Bond yields rose after the inflation report.",
        "The company reported higher quarterly profits and revenue.",
        "Investors moved money from shares into government bonds.",
        "The bank cut its forecast for economic growth.",
        "Currency traders watched the dollar against the euro.",
        "Quarterly earnings beat the analysts' estimates.",
        "The fund manager bought shares of technology companies.",
        "Mortgage rates climbed after the central bank decision.",
        "Shares of the bank dropped after weak profits.",
        "Inflation and interest rates worry investors in the market.",
        "The company issued bonds to raise money from investors.",
        "Analysts expect revenue growth and higher earnings.",
        "The stock exchange closed lower as shares fell.",
    ],
    "cooking": [
        "Bake the bread in a hot oven for forty minutes.",
        "Stir the soup and add salt and pepper to taste.",
        "The recipe needs flour, butter, sugar and two eggs.",
        "Chop the onions and fry them in olive oil.",
        "Simmer the tomato sauce slowly with garlic and basil.",
        "Whisk the eggs with milk before pouring into the pan.",
        "Roast the chicken with lemon, garlic and rosemary.",
        "Knead the dough until it is smooth, then let it rise.",
        "Season the grilled vegetables with herbs and oil.",
        "Melt the chocolate and butter for the cake recipe.",
        "Add flour and sugar to the butter and mix the dough.",
        "Fry the garlic and onions, then add the tomato sauce.",
        "The soup recipe uses salt, pepper and fresh herbs.",
        "Bake the cake in the oven with eggs and chocolate.",
        "Roast the vegetables in olive oil with rosemary.",
    ],
    "space": [
        "The rocket launched the satellite into orbit around Earth.",
        "Astronomers observed a distant galaxy with the telescope.",
        "The astronauts docked with the space station.",
        "A probe landed on the surface of Mars to study rocks.",
        "The telescope captured images of a planet around another star.",
        "The moon mission will carry astronauts to the lunar surface.",
        "Scientists tracked the comet as it passed the sun.",
        "The satellite sends weather data from orbit.",
        "The space agency tested a new rocket engine.",
        "Astronomers measured light from an exploding star.",
        "The probe sent images of the planet and its moon.",
        "Astronauts on the space station watched the rocket launch.",
        "The telescope found a new galaxy and many stars.",
        "The rocket carried a probe toward Mars orbit.",
        "Scientists studied the comet with the space telescope.",
    ],
}


def split() -> tuple[list[str], list[str], list[str], list[str]]:
    """Train texts, train labels, test texts, test labels."""
    train_x: list[str] = []
    train_y: list[str] = []
    test_x: list[str] = []
    test_y: list[str] = []
    for label, texts in TOPICS.items():
        train_x += texts[:10]
        train_y += [label] * 10
        test_x += texts[10:]
        test_y += [label] * 5
    return train_x, train_y, test_x, test_y

"""Scripts: what the presenter says, written by a language model to fit a duration or given by the user.

result = await ScriptAgent(create_llm(settings), words_per_second=2.6).write("why is the sky blue", 60)
script = Script.from_text(Path("script.txt").read_text())
"""

from neura.script.agent import ProgressCallback, ScriptAgent, ScriptPlan, ScriptResult
from neura.script.answer import Reading, extract_json_object, read_answer
from neura.script.schema import MAX_SCENES, MAX_TOTAL_CHARS, Scene, Script, count_words, prompt_schema

__all__ = [
    "MAX_SCENES",
    "MAX_TOTAL_CHARS",
    "ProgressCallback",
    "Reading",
    "Scene",
    "Script",
    "ScriptAgent",
    "ScriptPlan",
    "ScriptResult",
    "count_words",
    "extract_json_object",
    "prompt_schema",
    "read_answer",
]

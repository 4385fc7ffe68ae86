"""Benchmark: knowledge-base search over 20,000 published articles — latency and recall.

    DATABASE_URL=postgresql://postgres@127.0.0.1/hotline_bench_kb .venv/bin/python bench/kb_search.py \
        [--articles 20000] [--rounds 8] [--regenerate]

The 60 demo articles (app/knowledge/demo_articles.json, written as a hotline's FAQ) are published among
generated articles on the same subjects and with the same vocabulary (districts, groups of people,
procedures, materials), so that the real ones must be found among thousands of near neighbours. The
questions in bench/kb_questions.json were written as callers phrase them — colloquial, abbreviated,
often with a synonym that the article does not contain — each naming the article that answers it.

It prints recall@1 / recall@5 / MRR over the questions, then the latency of `search()` for every
question, `--rounds` times (a fresh session each time): p50 / p95 / max. The last line is one JSON
object with `kb_search_p95_ms` (goal ≤ 30 ms) and `kb_recall_at_5`.

Data is generated once and kept (articles present with the same count: generation skipped). Generation
refuses a database that holds users or articles other than its own: give it a database of its own.
DATABASE_URL unset: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS = 30.0
QUESTIONS = ROOT / "bench" / "kb_questions.json"

DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区"]
GROUPS = ["退休人员", "灵活就业人员", "在校学生", "新生儿", "外来务工人员", "低保对象", "特困人员", "退役军人",
          "企业职工", "个体工商户", "城乡居民", "残疾人", "离休干部", "大学生", "失业人员"]
SUBJECTS = ["住院报销", "门诊报销", "门诊特殊疾病", "异地就医", "医保电子凭证", "社保卡", "个人账户", "家庭共济",
            "大病保险", "医疗救助", "生育津贴", "长期护理保险", "参保缴费", "断缴补缴", "医保关系转移接续",
            "定点医院", "定点药店", "药品目录", "诊疗项目", "慢特病用药", "住院押金", "转诊转院", "医保待遇",
            "城乡居民医保", "职工医保", "欺诈骗保举报", "费用清单", "起付线", "报销比例", "封顶线"]
ACTIONS = ["办理", "查询", "变更", "申请", "结算", "认定", "缴纳", "暂停", "恢复", "核定", "备案", "审核"]
ASPECTS = ["流程", "所需材料", "办理时限", "条件", "标准", "办理地点", "线上渠道", "注意事项", "常见问题", "政策变化"]
SENTENCES = [
    "{g}办理{s}相关业务，可携带身份证原件到{d}医保经办大厅窗口办理。",
    "也可通过国家医保服务平台 APP 或甘肃医保小程序在线{a}，提交后一般 {n} 个工作日内完成审核。",
    "{s}的{x}按当年政策标准执行，具体以经办机构核定为准。",
    "如对{s}结果有异议，可在收到结果后 {n} 个工作日内向{d}医保局申请复核。",
    "{d}的{g}如需{a}{s}，请提前准备户口簿、近期照片及相关证明材料。",
    "办理过程中遇到问题，可拨打 12393 医保服务热线咨询，或在工作日到窗口现场咨询。",
    "{s}信息变更后，次月起按新的{x}执行，已结算的费用不作调整。",
    "请注意：{g}在{d}参保的，{s}须在参保地办理，不能跨统筹区受理。",
]


def generated_article(rng: random.Random, n: int) -> dict:
    s, a, x, g, d = (rng.choice(SUBJECTS), rng.choice(ACTIONS), rng.choice(ASPECTS), rng.choice(GROUPS),
                     rng.choice(DISTRICTS))
    question = rng.choice([f"{d}{g}{s}{a}的{x}是什么？", f"{g}如何{a}{s}？", f"{s}{a}{x}（{d}）",
                           f"{d}{s}的{x}有哪些？"])
    answer = "".join(rng.choice(SENTENCES).format(s=s, a=a, x=x, g=g, d=d, n=rng.choice([3, 5, 10, 15, 20]))
                     for _ in range(rng.randint(3, 5)))
    return {"key": f"g{n}", "category": [s], "question": question, "answer": answer, "tags": [s, g, d],
            "policy_ref": "", "visibility": "public"}


def prepare(count: int, regenerate: bool) -> dict[str, int]:
    """Publish the demo articles and generated ones; returns demo key → article id."""
    from sqlalchemy import delete, func, select

    from app.extensions import db
    from app.knowledge import demo, services
    from app.knowledge.services import ArticleInput
    from app.models import User
    from app.models.knowledge import KbArticle, KbArticleVersion, KbCategory, KbTerm
    from app.setup import apply_migrations

    apply_migrations()
    articles = demo.load_articles()
    present = db.session.scalar(select(func.count(KbArticle.id))) or 0
    if present == count and not regenerate:
        print(f"data present ({present} articles); generation skipped", flush=True)
    else:
        if db.session.scalar(select(func.count(User.id))):
            raise SystemExit("refusing to generate: the database holds users — give the benchmark a database of its own")
        for table in (KbTerm, KbArticleVersion):
            db.session.execute(delete(table))
        db.session.execute(KbArticle.__table__.update().values(published_version_id=None))
        db.session.execute(delete(KbArticle))
        db.session.execute(delete(KbCategory))
        db.session.commit()
        services.load_default_synonyms()
        rng = random.Random(20261123)
        items = articles + [generated_article(rng, n) for n in range(count - len(articles))]
        rng.shuffle(items)  # the demo articles are not the first ids
        print(f"publishing {len(items)} articles …", flush=True)
        started = time.perf_counter()
        for n, item in enumerate(items, start=1):
            data = ArticleInput(category_id=services.category_path_id(item["category"]), question=item["question"],
                                answer=item["answer"], tags="、".join(item["tags"]), policy_ref=item["policy_ref"],
                                visibility=item["visibility"], effective_from=None, effective_to=None)
            services.publish(services.write_version(None, data, None))
            if n % 1000 == 0:
                db.session.commit()
                print(f"  {n} articles, {time.perf_counter() - started:.0f} s", flush=True)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE kb_term")
                conn.exec_driver_sql("VACUUM ANALYZE kb_article")
        print(f"published in {time.perf_counter() - started:.0f} s", flush=True)
    by_question = dict(db.session.execute(select(KbArticle.question, KbArticle.id)).all())
    return {item["key"]: by_question[item["question"]] for item in articles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="hotline-bench-kb-")
        os.environ["HOTLINE_INSTANCE_PATH"] = folder
        print(f"DATABASE_URL unset: temporary SQLite in {folder}")
    os.environ.setdefault("HOTLINE_INSTANCE_PATH", tempfile.mkdtemp(prefix="hotline-bench-kb-"))
    os.environ.setdefault("HOTLINE_ENV", "development")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("SECRET_KEY", "bench-kb-only")
    os.environ["HOTLINE_SEED_DEMO_DATA"] = "0"

    from app import create_app
    from app.extensions import db
    from app.knowledge import search
    from config import config_from_env

    app = create_app(config_from_env())
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    with app.app_context():
        ids = prepare(args.articles, args.regenerate)
        dialect = db.engine.dialect.name
        search.tokenizer()  # the dictionary loads once per process, not per request
        ranks = []
        for item in questions:
            found = [hit.article.id for hit in search.search(item["q"], limit=5)]
            target = ids[item["expected"]]
            ranks.append(found.index(target) + 1 if target in found else None)
            db.session.remove()
        timings = []
        for _ in range(args.rounds):
            for item in questions:
                started = time.perf_counter()
                search.search(item["q"], limit=10)
                timings.append((time.perf_counter() - started) * 1000)
                db.session.remove()
    timings.sort()
    found5 = [r for r in ranks if r is not None]
    recall1 = sum(1 for r in found5 if r == 1) / len(ranks)
    recall5 = len(found5) / len(ranks)
    mrr = sum(1 / r for r in found5) / len(ranks)
    p50, p95 = statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]
    missed = [q["q"] for q, r in zip(questions, ranks, strict=True) if r is None]
    print(f"\nknowledge-base search on {dialect}: {args.articles:,} published articles, {len(questions)} questions")
    print(f"recall@1 {recall1:.3f}  recall@5 {recall5:.3f}  MRR {mrr:.3f}")
    print(f"latency over {len(timings)} searches: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms "
          f"(goal p95 ≤ {GOAL_MS:.0f} ms)")
    if missed:
        print("not in the top 5:\n  " + "\n  ".join(missed))
    print(json.dumps({"database": dialect, "articles": args.articles, "questions": len(questions),
                      "kb_search_p95_ms": round(p95, 2), "kb_search_p50_ms": round(p50, 2),
                      "kb_recall_at_5": round(recall5, 4), "kb_recall_at_1": round(recall1, 4), "kb_mrr": round(mrr, 4),
                      "goal_ms": GOAL_MS}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""The text of the How-to sheet (使用说明) in each output language: what every sheet and button is for."""

from __future__ import annotations

from collections.abc import Iterator

from . import schema
from .i18n import pick


def howto_lines(lang: str) -> Iterator[tuple[str, str]]:
    """(style, text) lines of the How-to sheet; style is title / heading / text / table."""
    c, f, p = schema.CUSTOMERS, schema.FOLLOWUPS, schema.PURCHASES
    d = schema.SETTING_DEFAULTS
    cust, fol, pur = c.name(lang), f.name(lang), p.name(lang)
    setting_sheet = schema.SETTINGS_SHEET.name(lang)
    lists = schema.LISTS.name(lang)
    comp = ("、" if lang != "en" else ", ").join(col.header(lang) for col in c.computed_columns)
    idh = c.column("customer_id").header(lang)
    yield "title", pick(lang, "xlcrm 客户管理表 使用说明", "xlcrm customer workbook — how to use it")
    yield "heading", pick(lang, "一、三张表，用客户编号关联", "1. Three sheets, joined by customer ID")
    yield "text", pick(
        lang,
        f"“{cust}”每个客户一行（客户资料卡）；“{fol}”每次联系一行；“{pur}”每笔订单一行。"
        f"三张表用“{idh}”关联，不要把跟进或订单写进客户那一行。可以在表格右侧添加自己的列，xlcrm 会保留。",
        f"'{cust}' has one row per customer (the customer card); '{fol}' one row per contact; "
        f"'{pur}' one row per order. They are joined by '{idh}': never put follow-ups or orders in the "
        "customer's row. You may add your own columns to the right; xlcrm keeps them.",
    )
    yield "text", pick(
        lang,
        f"“{idh}”可以留空，“校验”会自动编号。手机、电话、编号、邮编等列是文本格式，开头的 0 不会丢失。",
        f"'{idh}' may be left blank: Check assigns the next ID. Phone, ID and postcode columns are text, "
        "so leading zeros are kept.",
    )
    yield "text", pick(
        lang,
        "输入重复的客户编号、手机或邮箱时，Excel 会立即弹出“可能重复”警告（无需 Python）；"
        "写法不同的重复（如加 +86、繁体、少写“有限公司”）由“查重”找出。",
        "Typing a customer ID, mobile or e-mail that is already there shows a 'Possible duplicate' warning "
        "at once (no Python needed); duplicates written differently (+86, Traditional characters, "
        "a missing 'Co., Ltd.') are found by Dedupe.",
    )
    svc = schema.SERVICE.name(lang)
    yield "text", pick(
        lang,
        f"“{svc}”（可选）每次售前、售中、售后服务、投诉或回访一行。投诉超过 {d['complaint_sla_days']} 天未填“解决日期”"
        f"会在“今日跟进”和“汇总”中提醒；{d['no_contact_days']} 天既无跟进也无服务的客户列为建议重新分配。",
        f"'{svc}' (optional) has one row per pre-sale, in-sale or after-sale service, complaint or revisit. A complaint "
        f"with no 'Resolved' date after {d['complaint_sla_days']} days is flagged on Due Today and the Summary; "
        f"customers with no follow-up or service for {d['no_contact_days']} days are listed for reassignment.",
    )
    yield "heading", pick(lang, "二、按钮与命令", "2. Buttons and commands")
    yield "text", pick(
        lang,
        "在 Excel 中点击 xlcrm 选项卡上的按钮；在 WPS、LibreOffice 或定时任务中运行同名命令：",
        "In Excel click the buttons on the xlcrm ribbon tab; in WPS, LibreOffice or a scheduled job run "
        "the command of the same name:",
    )
    commands = (
        ("check", "校验：检查电话、邮箱、日期、必填项和编号，结果写入“问题”表", "Check: phones, e-mails, dates, required fields and IDs; findings go to the Issues sheet"),
        ("regrade", f"重新评级：计算 {comp}", f"Regrade: computes {comp}"),
        ("due", "今日跟进：列出今天需要跟进的客户（今日需跟进客户）", "Due today: the customers to follow up today"),
        ("summary", "汇总：按负责人、等级、月份统计销售额与回款、逾期应收", "Summary: sales and collections by owner, grade and month; overdue receivables"),
        ("receivables", "应收：按客户和负责人列出未收款、逾期应收和账龄，写入“应收”表",
         "Receivables: unpaid and overdue amounts with ageing, per customer and per salesperson, on the Receivables sheet"),
        ("dedupe", "查重：找出可能重复的客户，写入“查重”表供确认", "Dedupe: finds likely duplicate customers and lists them on the Duplicates sheet for review"),
        ("merge", "合并：合并“查重”表中确认的重复客户，被合并的行移到“归档”表", "Merge: merges the pairs confirmed on Duplicates; merged rows move to Archive"),
        ("export", "导出：导出选定客户用于邮件合并（广告信函、节日问候）", "Export: selected customers for mail-merge (letters, holiday greetings)"),
        ("card", "客户卡：一位客户的基本信息、跟进、购买和服务记录列在一起（按钮：先选中客户所在的行）",
         "Card: one customer's basic info, follow-ups, purchases and service together (button: select their row first)"),
    )
    for cmd, zh, en in commands:
        yield "text", f"xlcrm {cmd} {pick(lang, '客户表.xlsx', 'crm.xlsx')}    — {pick(lang, zh, en)}"
    yield "heading", pick(lang, "三、客户等级 A–E 与跟进周期", "3. Grades A–E and follow-up cadence")
    yield "table", "\t".join(
        (c.column("grade").header(lang), pick(lang, "规则", "Rule"), pick(lang, "跟进周期（天）", "Follow up every (days)"))
    )
    rules = {
        "A": (f"明确需求，预计 {d['window_a']} 天内成交", f"Clear need, deal expected within {d['window_a']} days"),
        "B": (f"明确需求，预计 {d['window_b']} 天内成交", f"Clear need, deal expected within {d['window_b']} days"),
        "C": (f"明确需求，预计 {d['window_c']} 天内成交", f"Clear need, deal expected within {d['window_c']} days"),
        "D": (f"潜在需求，或明确需求但 {d['window_c']} 天后才成交", f"Latent need, or a clear need but more than {d['window_c']} days away"),
        "E": ("无需求 / 无机会（死亡客户）", "No need / no chance (dead customer)"),
    }
    for g, (zh, en) in rules.items():
        yield "table", "\t".join((g, pick(lang, zh, en), str(d[f"cadence_{g.lower()}"])))
    yield "text", pick(
        lang,
        f"天数可在“{setting_sheet}”表中修改。每次跟进后重新评级，按新等级的周期安排下次跟进。"
        f"“{c.column('grade_override').header(lang)}”填写后优先于自动等级。",
        f"Change the days on the '{setting_sheet}' sheet. After each follow-up the customer is re-graded "
        f"and the new cadence applies. '{c.column('grade_override').header(lang)}', when filled, wins over the computed grade.",
    )
    yield "heading", pick(lang, "四、哪些内容由 xlcrm 写入", "4. What xlcrm writes")
    yield "text", pick(
        lang,
        f"橙色表头的列（{comp}）由 xlcrm 计算，请勿手动输入，下次计算会覆盖。"
        "问题、变更记录、今日跟进、久未跟进、汇总、应收、查重、归档、导出等工具表由 xlcrm 重新生成，"
        "在其中的修改不会保留（“查重”表的确认列除外）。xlcrm 不会删除或静默覆盖您输入的内容：删除的行进入“归档”，每次修改记入“变更记录”。",
        f"Columns with an orange header ({comp}) are computed by xlcrm: do not type there, the next run "
        "overwrites them. Tool sheets (Issues, Change Log, Due Today, Stale, Summary, Receivables, "
        "Duplicates, Archive, Export) are regenerated by xlcrm, so edits there are not kept (except the "
        "decision column of Duplicates). xlcrm never deletes or silently overwrites what you typed: removed "
        "rows go to Archive and every change is listed in Change Log.",
    )
    yield "text", pick(
        lang,
        f"下拉列表的选项在隐藏的“{lists}”表中（右键工作表标签 → 取消隐藏）；销售人员名单可在该表的负责人列中增加。",
        f"The dropdown choices are on the hidden '{lists}' sheet (right-click a sheet tab → Unhide); add "
        "salespeople to its Owner column.",
    )


__all__ = ["howto_lines"]

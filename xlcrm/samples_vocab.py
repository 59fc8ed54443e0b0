"""The sample generator's vocabulary: salespeople, cities, company and person names, phrases, products.

Plain data (zh-CN, en pairs), kept apart from the generator's logic in `samples.py`.
"""

from __future__ import annotations

OWNERS = {"zh-CN": ["张伟", "李娜", "王强", "刘洋", "陈静"], "en": ["Zhang Wei", "Li Na", "Wang Qiang", "Liu Yang", "Chen Jing"]}

# (province zh, province en, city zh, city en, postcode prefix, area code, districts, weight)
CITIES = (
    ("北京市", "Beijing", "北京市", "Beijing", "1000", "010", ("朝阳区", "海淀区", "东城区", "丰台区"), 9),
    ("上海市", "Shanghai", "上海市", "Shanghai", "2000", "021", ("浦东新区", "闵行区", "徐汇区", "嘉定区"), 9),
    ("天津市", "Tianjin", "天津市", "Tianjin", "3000", "022", ("滨海新区", "南开区", "河西区"), 3),
    ("重庆市", "Chongqing", "重庆市", "Chongqing", "4000", "023", ("渝北区", "九龙坡区", "江北区"), 3),
    ("广东省", "Guangdong", "广州市", "Guangzhou", "5100", "020", ("天河区", "白云区", "番禺区", "黄埔区"), 7),
    ("广东省", "Guangdong", "深圳市", "Shenzhen", "5180", "0755", ("南山区", "宝安区", "龙岗区", "福田区"), 8),
    ("广东省", "Guangdong", "东莞市", "Dongguan", "5230", "0769", ("长安镇", "虎门镇", "松山湖"), 4),
    ("广东省", "Guangdong", "佛山市", "Foshan", "5280", "0757", ("顺德区", "南海区", "禅城区"), 4),
    ("浙江省", "Zhejiang", "杭州市", "Hangzhou", "3100", "0571", ("西湖区", "滨江区", "余杭区", "萧山区"), 6),
    ("浙江省", "Zhejiang", "宁波市", "Ningbo", "3150", "0574", ("鄞州区", "北仑区", "江北区"), 4),
    ("浙江省", "Zhejiang", "温州市", "Wenzhou", "3250", "0577", ("鹿城区", "瓯海区", "乐清市"), 3),
    ("江苏省", "Jiangsu", "南京市", "Nanjing", "2100", "025", ("江宁区", "鼓楼区", "玄武区"), 5),
    ("江苏省", "Jiangsu", "苏州市", "Suzhou", "2150", "0512", ("工业园区", "吴中区", "昆山市", "相城区"), 6),
    ("江苏省", "Jiangsu", "无锡市", "Wuxi", "2140", "0510", ("新吴区", "滨湖区", "江阴市"), 3),
    ("山东省", "Shandong", "济南市", "Jinan", "2500", "0531", ("历下区", "槐荫区", "高新区"), 3),
    ("山东省", "Shandong", "青岛市", "Qingdao", "2660", "0532", ("市南区", "黄岛区", "城阳区"), 4),
    ("四川省", "Sichuan", "成都市", "Chengdu", "6100", "028", ("武侯区", "高新区", "锦江区", "双流区"), 5),
    ("湖北省", "Hubei", "武汉市", "Wuhan", "4300", "027", ("洪山区", "江汉区", "东湖高新区"), 4),
    ("湖南省", "Hunan", "长沙市", "Changsha", "4100", "0731", ("岳麓区", "雨花区", "开福区"), 3),
    ("福建省", "Fujian", "厦门市", "Xiamen", "3610", "0592", ("思明区", "湖里区", "集美区"), 3),
    ("福建省", "Fujian", "福州市", "Fuzhou", "3500", "0591", ("鼓楼区", "仓山区", "晋安区"), 2),
    ("河南省", "Henan", "郑州市", "Zhengzhou", "4500", "0371", ("金水区", "郑东新区", "二七区"), 3),
    ("陕西省", "Shaanxi", "西安市", "Xi'an", "7100", "029", ("雁塔区", "未央区", "高新区"), 3),
    ("辽宁省", "Liaoning", "沈阳市", "Shenyang", "1100", "024", ("和平区", "浑南区", "铁西区"), 2),
    ("辽宁省", "Liaoning", "大连市", "Dalian", "1160", "0411", ("甘井子区", "沙河口区", "金州区"), 2),
    ("安徽省", "Anhui", "合肥市", "Hefei", "2300", "0551", ("蜀山区", "包河区", "高新区"), 3),
    ("河北省", "Hebei", "石家庄市", "Shijiazhuang", "0500", "0311", ("长安区", "桥西区", "裕华区"), 2),
    ("内蒙古自治区", "Inner Mongolia", "呼和浩特市", "Hohhot", "0100", "0471", ("新城区", "赛罕区", "回民区"), 1),
)
SEVEN_DIGIT_AREAS = ("0592", "0471")  # Xiamen, Hohhot: 7-digit local numbers
ROADS = ("人民路", "建设路", "解放路", "中山路", "科技路", "工业大道", "创业路", "发展大道", "长江路", "黄河路",
         "新华路", "和平路", "胜利路", "学府路", "滨河路", "高新大道", "金融街", "文化路")
BUILDINGS = ("国际大厦", "科技园", "商务中心", "创新大厦", "财富广场", "产业园")
BRAND_SYLLABLES = "华宏鑫盛达通泰恒瑞丰源科创新远捷嘉锦凯宇天中立博金海佳德诚信联润腾飞汇安康永昌隆益兴成广顺和"
LATIN_BRANDS = ("ABC", "HK", "KX", "TCM", "JD", "SY", "HT", "BM", "GT", "ZR", "MK", "DX")
# (word in the name, industry zh, industry en, products zh, products en)
INDUSTRY_WORDS = (
    ("科技", "信息技术", "IT", "软件开发、系统集成", "Software, system integration"),
    ("网络科技", "信息技术", "IT", "电商平台、网站建设", "E-commerce platforms, websites"),
    ("信息技术", "信息技术", "IT", "企业管理软件", "Business software"),
    ("电子", "制造业", "Manufacturing", "电子元器件", "Electronic components"),
    ("光电", "制造业", "Manufacturing", "LED 照明、光电模组", "LED lighting, optoelectronic modules"),
    ("机械", "制造业", "Manufacturing", "数控机床、机械配件", "CNC machines, machine parts"),
    ("自动化设备", "制造业", "Manufacturing", "工业自动化设备", "Industrial automation"),
    ("五金", "制造业", "Manufacturing", "五金工具、紧固件", "Hardware, fasteners"),
    ("塑胶", "制造业", "Manufacturing", "注塑件、塑料制品", "Injection-moulded parts"),
    ("新材料", "制造业", "Manufacturing", "复合材料", "Composite materials"),
    ("贸易", "批发零售", "Wholesale & retail", "进出口贸易", "Import and export"),
    ("商贸", "批发零售", "Wholesale & retail", "日用百货批发", "Household goods wholesale"),
    ("实业", "批发零售", "Wholesale & retail", "综合贸易", "General trading"),
    ("建材", "建筑工程", "Construction", "建筑材料、装饰材料", "Building materials"),
    ("建设工程", "建筑工程", "Construction", "工程施工", "Construction works"),
    ("医疗器械", "医疗健康", "Healthcare", "医疗器械、耗材", "Medical devices, consumables"),
    ("生物科技", "医疗健康", "Healthcare", "生物试剂", "Bio reagents"),
    ("食品", "食品饮料", "Food & beverage", "休闲食品", "Snack foods"),
    ("餐饮管理", "餐饮酒店", "Hospitality", "连锁餐饮", "Restaurant chains"),
    ("物流", "物流运输", "Logistics", "仓储配送", "Warehousing and delivery"),
    ("供应链管理", "物流运输", "Logistics", "供应链服务", "Supply-chain services"),
    ("化工", "能源化工", "Chemicals & energy", "精细化工产品", "Fine chemicals"),
    ("环保科技", "能源化工", "Chemicals & energy", "环保设备、水处理", "Environmental equipment"),
    ("纺织", "制造业", "Manufacturing", "纺织面料", "Textiles"),
    ("包装", "制造业", "Manufacturing", "纸箱、包装材料", "Cartons, packaging"),
    ("教育咨询", "教育培训", "Education", "职业培训", "Vocational training"),
    ("文化传媒", "文化传媒", "Media", "广告设计、活动策划", "Advertising, events"),
)
SUFFIXES = ("有限公司", "股份有限公司", "有限责任公司", "集团有限公司")
SUFFIX_WEIGHTS = (0.66, 0.14, 0.14, 0.06)
# Surnames with their approximate share of the population (%).
SURNAMES = (("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5), ("杨", 3.1), ("黄", 2.2), ("赵", 2.0),
            ("吴", 2.0), ("周", 1.9), ("徐", 1.5), ("孙", 1.4), ("马", 1.3), ("朱", 1.2), ("胡", 1.1), ("郭", 1.0),
            ("何", 0.9), ("高", 0.9), ("林", 0.9), ("罗", 0.8), ("郑", 0.8), ("梁", 0.8), ("谢", 0.6), ("宋", 0.5),
            ("唐", 0.5), ("许", 0.5), ("韩", 0.5), ("冯", 0.4), ("邓", 0.4), ("曹", 0.4), ("彭", 0.4), ("曾", 0.4))
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华辉鹏飞婷雪琳斌波宇浩凯晨欣怡佳文博思源建国海燕红梅玉兰志伦"
TYPOS = {"伟": "玮", "静": "婧", "娜": "纳", "强": "蔷", "磊": "垒", "军": "君", "洋": "阳", "勇": "永", "杰": "洁",
         "涛": "韬", "明": "铭", "超": "潮", "平": "萍", "刚": "钢", "丽": "莉", "芳": "方", "敏": "民", "艳": "燕",
         "霞": "侠", "华": "桦", "辉": "晖", "斌": "彬", "鹏": "朋", "飞": "菲", "婷": "亭", "雪": "雯", "琳": "林",
         "波": "博", "宇": "雨", "浩": "皓", "凯": "恺", "晨": "辰", "欣": "新", "怡": "仪", "佳": "家", "文": "雯",
         "博": "波", "思": "斯", "源": "元", "建": "健", "国": "果", "海": "亥", "燕": "艳", "红": "虹", "梅": "玫",
         "玉": "钰", "兰": "岚", "志": "智", "伦": "仑"}
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
                   "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
                   "198", "199")
TITLES = (("经理", "Manager"), ("总经理", "General Manager"), ("采购经理", "Purchasing Manager"),
          ("采购主管", "Purchasing Supervisor"), ("总监", "Director"), ("技术总监", "Technical Director"),
          ("销售总监", "Sales Director"), ("董事长", "Chairman"), ("行政主管", "Office Manager"),
          ("财务经理", "Finance Manager"), ("项目经理", "Project Manager"), ("采购专员", "Buyer"))
SOURCES = (("展会", "Trade show", 0.16), ("网络推广", "Online ads", 0.18), ("老客户介绍", "Referral", 0.2),
           ("电话营销", "Cold call", 0.12), ("阿里巴巴", "Alibaba", 0.1), ("官网咨询", "Website inquiry", 0.12),
           ("地推", "Field sales", 0.06), ("招投标", "Tender", 0.06))
TAGS = (("老客户", "Repeat"), ("经销商", "Distributor"), ("展会客户", "Trade-show lead"), ("重点跟进", "Watch"),
        ("政府采购", "Public sector"), ("VIP", "VIP"))
NOTES = (("春节前需要备货", "Stocks up before Spring Festival"), ("只接受月结", "Monthly billing only"),
         ("要求开增值税专用发票", "Needs a special VAT invoice"), ("对价格敏感", "Price-sensitive"),
         ("老板亲自决策", "The owner decides himself"), ("下半年有扩产计划", "Plans to expand in H2"),
         ("曾投诉交货延迟", "Once complained about late delivery"), ("需要提供样品", "Wants samples first"))
CHANNEL_WEIGHTS = (0.40, 0.15, 0.30, 0.10, 0.05)  # schema.CHANNELS order: phone visit wechat email other
SUMMARIES = {
    "phone": (("电话沟通采购计划，客户关注价格", "Call about purchase plan; customer cares about price"),
              ("电话确认报价细节", "Call to confirm quote details"),
              ("电话回访使用情况，反馈良好", "Follow-up call on usage; good feedback"),
              ("电话催收尾款", "Call to chase the remaining payment"),
              ("客户来电询问交期", "Customer called about delivery time")),
    "visit": (("上门拜访，演示产品", "On-site visit with product demo"),
              ("拜访采购部，了解年度预算", "Visited purchasing to learn the yearly budget"),
              ("陪同技术人员现场勘察", "Site survey with our engineer"),
              ("客户来公司参观工厂", "Customer visited our factory")),
    "wechat": (("微信发送报价单", "Sent the quotation on WeChat"), ("微信发送产品资料", "Sent product brochure on WeChat"),
               ("微信沟通合同条款", "Discussed contract terms on WeChat"), ("微信节日问候", "Holiday greetings on WeChat"),
               ("微信确认收货", "Confirmed delivery on WeChat")),
    "email": (("邮件发送正式报价和合同草稿", "E-mailed formal quote and draft contract"),
              ("邮件发送产品目录", "E-mailed the catalogue"), ("邮件回复技术问题", "Answered technical questions by e-mail")),
    "other": (("短信通知新品上市", "SMS about new products"), ("QQ 沟通样品寄送", "QQ chat about sending samples")),
}
OUTCOMES = (("有意向，继续跟进", "Interested, keep following", 0.25), ("已报价，等待回复", "Quoted, awaiting reply", 0.2),
            ("需再跟进", "Follow up again", 0.2), ("约定下次拜访", "Next visit booked", 0.1),
            ("价格有分歧", "Price disagreement", 0.08), ("客户暂无需求", "No need for now", 0.1),
            ("已签合同", "Contract signed", 0.07))
# The planned next step after each outcome (same order as OUTCOMES), typed when a next date is set.
NEXT_STEPS = (("寄送产品资料和样品", "Send brochure and samples"), ("电话确认报价", "Call to confirm the quote"),
              ("再次电话沟通需求", "Call again about the need"), ("上门拜访", "Visit on site"),
              ("申请特价后回复", "Reply after a special-price approval"), ("三个月后回访", "Check back in three months"),
              ("安排交付与回款", "Arrange delivery and payment"))
# (product zh, product en, list price, typical quantity)
PRODUCTS = (("工业控制器 XC-200", "Industrial controller XC-200", 1280.0, 10), ("传感器模块", "Sensor module", 86.5, 200),
            ("数控机床配件包", "CNC spare-parts kit", 3600.0, 3), ("软件年度授权", "Software licence (1 year)", 19800.0, 1),
            ("技术服务（人天）", "Technical service (man-day)", 2500.0, 5), ("包装材料（箱）", "Packaging (carton)", 45.8, 500),
            ("LED 灯具", "LED fixture", 168.0, 120), ("不锈钢紧固件（千件）", "Stainless fasteners (1,000)", 520.0, 20),
            ("医用防护口罩（箱）", "Medical masks (carton)", 260.0, 50), ("自动化产线改造", "Production-line upgrade", 186000.0, 1),
            ("注塑模具", "Injection mould", 42000.0, 1), ("环保滤芯", "Filter cartridge", 380.0, 40))
